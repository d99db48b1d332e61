"""Policy decides, never acts: rows and a clock in, a Plan of actions with reasons out."""

from .guards import cap, check, share_limit
from .plan import ACTING, KINDS, Action, Plan
from .users import Member, MemberState, UserPolicy, decide_member, decide_users, next_state

__all__ = ["ACTING", "KINDS", "Action", "Member", "MemberState", "Plan", "UserPolicy", "cap", "check",
           "decide_member", "decide_users", "next_state", "share_limit"]
