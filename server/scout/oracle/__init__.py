"""oracle layer: GHC as the teacher (see ARCHITECTURE.md).

``mutate`` writes a change kind into a target's source as text edits with a line map back;
``typecheck`` finds what to compile and runs ``ghc --make -fno-code -ddump-json``; ``oracle``
runs mutations in scratch copies against a cached baseline and returns break sites;
``targets`` resolves names through the workspace index; ``teacher`` turns an oracle result
into ``ghc`` labels; ``evaluate`` is ``scout eval``; ``cli`` holds the two subcommands.
This layer reads the index and explore/scoring types; nothing below it imports it.
"""
