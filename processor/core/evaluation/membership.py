"""A user joined or left a licensed group (SPEC §2.4): evaluate it, doing only the work the change can need.

A full evaluation reconciles every source of the user: a pass over all of its entries and groups. When the user's
holdings (processor.core.holdings) know that nothing was pending before the change (every entry settled, every
bundle applied), the full evaluation would act on the changed group's entries alone: only that is done, in the same
way, so the change costs what it changes rather than a pass over thousands of groups.
"""

from __future__ import annotations

from processor.core.context import EventContext
from processor.core.evaluation.additions import add_bundles
from processor.core.evaluation.user import evaluate_user
from processor.core.evaluation.withdrawals import withdraw
from processor.core.holdings import is_pending
from processor.core.state import EntryKey, Group, User


def joined(ctx: EventContext, user: User, group: Group) -> None:
    """The user became a member of the group: its bundle is the only one left to add, and the last in membership
    order."""
    if not _nothing_pending(user) or user.user_id in group.sourced or not group.licenses or group.deleted:
        evaluate_user(ctx, user)
        return
    ctx.touch(user)
    add_bundles(ctx, user, [group])
    _pending_among(ctx, user, {(sku_id, group.group_id): disabled for sku_id, disabled in group.licenses.items()})


def left(ctx: EventContext, user: User, group: Group) -> None:
    """The user is no longer a member of the group: only the group's entries lost their intent (leaving is not the
    group unassigning a SKU, so none converts to direct, SPEC §2.14). Withdrawals are judged one after the other in
    entry order, which only a pass over the entries knows: a group that gave the user several licences takes the
    full evaluation."""
    keys = [key for key in ((sku_id, group.group_id) for sku_id in group.licenses) if key in user.entries]
    if not _nothing_pending(user) or len(keys) > 1:
        evaluate_user(ctx, user)
        return
    ctx.touch(user)
    for key in keys:
        withdraw(ctx, user, key, user.entries[key], None)
    _pending_among(ctx, user, dict.fromkeys(keys))


def _nothing_pending(user: User) -> bool:
    """Whether the user's holdings know that an evaluation would have acted on nothing before this change."""
    holdings = user.holdings
    return not user.soft_deleted and holdings is not None and holdings.pending == set()


def _pending_among(ctx: EventContext, user: User, wanted: dict[EntryKey, int | None]) -> None:
    """Only the keys of `wanted` (with what their source wants now) changed since nothing was pending: what is
    pending now is among them."""
    holdings = user.holdings
    assert holdings is not None  # _nothing_pending
    catalog = ctx.tenant.catalog
    holdings.pending = {key for key, want in wanted.items() if is_pending(catalog, user.entries.get(key), want)}
