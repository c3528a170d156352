"""`estimate KEY=VALUE ... [platform=NAME]`: every figure the inputs determine, each with its formula.

With a platform, rates the person did not give come from the knowledge base's published figures
(US dollars, labelled so, never converted), and every result becomes a low – typical – high range.
"""

from __future__ import annotations

from bot.errors import UserError
from bot.estimate.checks import check_enough
from bot.estimate.fill import run
from bot.estimate.inputs import parse_request, usage
from bot.estimate.reply import build_reply
from bot.reply import Reply


def estimate(ctx, args: list[str]) -> Reply:
    if not args:
        raise UserError(usage(ctx))
    request = parse_request(ctx, args)
    if request.platforms:
        from bot.estimate.side_by_side import compare_platforms

        return compare_platforms(ctx, request)
    est = run(request)
    check_enough(ctx, est)
    return build_reply(ctx, est)
