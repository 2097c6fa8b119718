await SimulatorCommand.launch()
