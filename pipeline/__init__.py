"""tfxp pipeline: definition, configuration, runners and the tfxp command line."""
