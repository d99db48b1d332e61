-- Reserved: migration 015 belongs to a branch built alongside this one (issue #16 uses 017).
-- This empty step keeps the numbers contiguous until that branch is merged; drop this file then.
SELECT 1;
