"""Evaluating users (SPEC §2.5), one module per phase, and what runs them: group passes (§2.11) and improved-mode
healing (§2.4, §2.6).

`evaluate_user` (user.py) runs the phases in order: withdrawals and narrowings (withdrawals.py) first, so swaps and
fixes are seen by the later phases, then widenings (widenings.py), revalidation of untouched entries
(revalidation.py) and additions, bundle by bundle, all or nothing per source group (additions.py). Every change goes
through the EventContext, which keeps seats and group error sets exact.
"""

from processor.core.evaluation.group import group_pass
from processor.core.evaluation.healing import heal_waiting_users
from processor.core.evaluation.user import evaluate_user

__all__ = ["evaluate_user", "group_pass", "heal_waiting_users"]
