-- When enforcement was first applied (NULL before): users listed earlier are existing users, not new ones.
SELECT min(started_at) FROM enforce_runs WHERE applied
