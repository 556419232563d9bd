from streams.cli.main import entry

entry()
