"""The subcommands, one module per group: ``pipeline`` (download, process, audit,
restore), ``views`` (status, report, quicklook), ``tryout`` (demo, sandbox), with
``flags`` for the flags they share. Each ``add_*`` registers one subcommand (``cli``
builds the parser from them); its handler imports its work only when it runs.
"""

PROG = "swxsoc_reach"
# what a handler returns and ``cli.main`` exits with (docs/telemetry.md "Exit codes")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
