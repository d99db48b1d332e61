-- These actions are in the audit of this enforce run.
UPDATE reader_actions SET audited_run_id = $run_id WHERE audited_run_id IS NULL AND action_id <= $upto
