import ServeCommand

Serve.runAndExit()
