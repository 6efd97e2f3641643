"""`tfxp`, the command line: one module per noun, each command a few lines that parse
arguments, call the library, and hand the result to `render` (the one place output is
formatted). Exit codes come from one table (`exits`): outcomes and user errors are values, a
traceback is a bug.
"""

DEFAULT_CONFIG = "pipeline/configs/taxi.yaml"  # every command's --config default
CONFIG_HELP = f"the dataset's YAML config (default: {DEFAULT_CONFIG})"
