"""The exit codes of every `dockyard` subcommand, defined once (README "Command line").

    0  done: every host (and registry) answered
    1  unexpected error (one line; DOCKYARD_DEBUG=1 shows the traceback); `images --drift
       --exit-code`: a tag drifts, as `git diff --exit-code`
    2  usage: bad arguments, a configuration error, no hosts, read-only mode refused the change
    3  failed: the command ran and a host, a registry or an action failed (the rest was done / printed)
  130  interrupted (^C)
`exec` exits with the command's own code instead.
"""

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_DRIFT = 1
EXIT_USAGE = 2
EXIT_FAILED = 3
EXIT_PARTIAL = EXIT_FAILED  # some hosts answered, some did not
EXIT_REGISTRY = EXIT_FAILED  # the registry refused or failed
EXIT_INTERRUPTED = 130  # 128 + SIGINT
