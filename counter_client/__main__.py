"""python -m counter_client --server URL --counter N --user NAME

Signs NAME into counter N, shows the counter's lines and ticket as they change, and reads one
command per line from standard input (typed or piped). The password comes from YIHAO_PASSWORD
or a prompt. See docs/counter.md.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import TextIO

from counter_client.i18n import LANGUAGES, translate
from counter_client.terminal import (
    EXIT_COUNTER,
    EXIT_LOGIN,
    EXIT_NOT_SIGNED_OUT,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    CounterApi,
    TerminalClient,
)

PASSWORD_VARIABLE = "YIHAO_PASSWORD"  # noqa: S105 - the name of a variable, not a password

EPILOG = f"""\
commands (one a line):
  n            call next (叫号)                c NUMBER     call that number (指呼)
  r            recall (重呼)                   s            start (开始办理)
  f [SVC,...]  finish (完成), optionally the businesses handled, by code or name
               (f 社保卡业务、社会保险)
  x            no-show (过号)                  t QUEUE      transfer to a line (转移), by
               code or name (t D, t 出件); t COUNTER / t SERVICE, then front|back
  h REASON     hold (挂起)                     p [REASON]   pause (暂停), e.g. p 午休
  u            resume (恢复)                   l            the whole counter again
  q            sign out and quit; the end of piped input does the same
  after each change the client prints what changed (A003 已叫号, 排队: A 5人 B 2人)
  ?            this list

password: from {PASSWORD_VARIABLE}, else asked for on the terminal.

exit status: {EXIT_OK} signed out; {EXIT_NOT_SIGNED_OUT} quit with a ticket still in hand (the
counter stays open); {EXIT_USAGE} usage; {EXIT_LOGIN} login refused; {EXIT_COUNTER} unknown or
refused counter; {EXIT_UNREACHABLE} server unreachable.

example:
  printf 'n\\ns\\nf\\nq\\n' | {PASSWORD_VARIABLE}=demo python -m counter_client \\
      --server http://127.0.0.1:5000 --counter 1 --user clerk01
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m counter_client",
        description=translate("cli_description", "en") + " / " + translate("cli_description"),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--server",
        required=True,
        metavar="URL",
        help="the Yihao server, e.g. http://127.0.0.1:5000",
    )
    parser.add_argument(
        "--counter",
        required=True,
        type=int,
        metavar="N",
        help="the counter (窗口) number to sign into",
    )
    parser.add_argument("--user", required=True, metavar="NAME", help="staff user name")
    parser.add_argument(
        "--lang", choices=LANGUAGES, default="zh", help="language of the output (default zh)"
    )
    args = parser.parse_args(argv)
    if not args.server.startswith(("http://", "https://")):
        parser.error("--server must be an http:// or https:// URL")
    if args.counter < 1:
        parser.error("--counter must be a positive number")
    return args


def read_password(user: str, lang: str, stdin: TextIO) -> str | None:
    password = os.environ.get(PASSWORD_VARIABLE)
    if password:
        return password
    if not stdin.isatty():
        # Piped commands are not a password; ask on the terminal when there is one.
        try:
            with open("/dev/tty", "r+", encoding="utf-8"):
                pass
        except OSError:
            return None
    try:
        return getpass.getpass(translate("cli_password_prompt", lang, user=user))
    except (EOFError, KeyboardInterrupt):
        return None


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace", line_buffering=True)
    args = parse_args(argv)
    password = read_password(args.user, args.lang, sys.stdin)
    if not password:
        print(translate("cli_no_password", args.lang), file=sys.stderr)
        return EXIT_USAGE
    api = CounterApi(args.server, args.user, password)
    client = TerminalClient(api, args.counter, out=sys.stdout, err=sys.stderr, lang=args.lang)
    failed = client.start()
    if failed is not None:
        return failed
    return client.run(sys.stdin)


if __name__ == "__main__":
    sys.exit(main())
