"""Settings for the public build: absolute URLs, so feeds and e-mail links work anywhere.

render_site(publish=True) loads this file and sets SITEURL from site.siteurl.
"""

import os
import sys

sys.path.append(os.path.dirname(os.path.abspath(__file__)))

from pelicanconf import *  # noqa: E402,F403

SITEURL = ""  # set from site.siteurl by render_site
RELATIVE_URLS = False
FEED_DOMAIN = SITEURL
DELETE_OUTPUT_DIRECTORY = False
