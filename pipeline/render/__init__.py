"""Render: issue snapshots into the Pelican site and the e-mails."""
