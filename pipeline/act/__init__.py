"""Acting on policy plans: the only place that changes Plex, Sonarr, Radarr or sends notices.

Deciding lives in pipeline.policy and never imports from here.
"""
