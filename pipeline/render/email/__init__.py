"""The e-mail wing of render: MJML digests and notices as MIME messages."""
