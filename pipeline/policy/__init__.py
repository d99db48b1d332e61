"""Policy decides, never acts: rows and a clock in, a Plan of actions with reasons out."""

from pipeline.policy.guards import cap, check, share_limit
from pipeline.policy.plan import ACTING, KINDS, Action, Plan
from pipeline.policy.users import Member, MemberState, UserPolicy, decide_member, decide_users, next_state

__all__ = ["ACTING", "KINDS", "Action", "Member", "MemberState", "Plan", "UserPolicy", "cap", "check",
           "decide_member", "decide_users", "next_state", "share_limit"]
