// Switchboard console: copy buttons. Loaded from 'self' only (the CSP allows no inline script).
"use strict";
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  const source = button.dataset.copyFrom ? document.getElementById(button.dataset.copyFrom) : null;
  const text = source ? source.textContent.trim() : button.dataset.copy || "";
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch (error) {
    // No clipboard permission (e.g. http on another host): select the text for a manual copy.
    if (source) window.getSelection().selectAllChildren(source);
    button.textContent = "Select and copy";
  }
  setTimeout(() => { button.textContent = "Copy"; }, 2000);
});
