"""Reader actions: the web app behind signed e-mail links, and its durable inbox."""
