-- These actions are in the audit of this enforce run (those taken in up to $upto, the newest it read).
UPDATE reader_actions SET audited_run_id = $run_id WHERE audited_run_id IS NULL AND taken_at <= $upto
