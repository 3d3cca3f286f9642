"""Prints template.yaml with one parameter's default changed, so that the
template checks (`make lint-template`) can lint another variant of the
stack, e.g. `Front=FunctionUrl`: `sam validate` takes no parameter values.

usage: template-variant.py <template> <Parameter>=<default>
"""

import re
import sys


def main():
    path, assignment = sys.argv[1:]
    name, value = assignment.split("=", 1)
    text = open(path, encoding="utf-8").read()
    # The parameter's block: its name at two spaces' indent, then its
    # properties at four, one of them `Default:`.
    block = re.compile(
        rf"(^  {re.escape(name)}:\n(?:    .*\n)*?    Default: )(.*)$", re.MULTILINE
    )
    new, count = block.subn(lambda m: m.group(1) + value, text, count=1)
    if count != 1:
        sys.exit(f"{path}: no parameter {name} with a Default")
    sys.stdout.write(new)


if __name__ == "__main__":
    main()
