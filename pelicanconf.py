"""Pelican settings for the newsletter archive. Declarative only: pipeline/render/site/generate.py overrides
PATH, OUTPUT_PATH, THEME, CACHE_PATH, SITENAME, SITEURL and TIMEZONE for each build."""

SITENAME = "Plex newsletter"
SITESUBTITLE = "What we watched, what is new, and who watched it together."
SITEURL = ""
RELATIVE_URLS = True  # the archive opens from any folder; publishconf.py makes URLs absolute
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
DEFAULT_DATE_FORMAT = "%d %B %Y"
LOCALE = ["C.UTF-8", "C"]  # English month names whatever the host says; pages render the same everywhere

PATH = "content"
ARTICLE_PATHS = ["issues"]  # written by render_site(), one file per issue
PAGE_PATHS = ["pages"]      # the admin's own pages, copied from content/pages/
STATIC_PATHS = ["images"]   # charts and posters, content-hashed names
THEME = "theme"
THEME_STATIC_DIR = "theme"
OUTPUT_PATH = "output"
DELETE_OUTPUT_DIRECTORY = False

# The issue reader: each issues/<slug>.issue file carries one issue's public data.
PLUGIN_PATHS = ["."]
PLUGINS = ["pipeline.render.site.pelican_issues"]

ARTICLE_URL = "issues/{slug}/"
ARTICLE_SAVE_AS = "issues/{slug}/index.html"
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
ARCHIVES_SAVE_AS = "archive/index.html"
YEAR_ARCHIVE_URL = "archive/{date:%Y}/"
YEAR_ARCHIVE_SAVE_AS = "archive/{date:%Y}/index.html"
MONTH_ARCHIVE_SAVE_AS = ""
DAY_ARCHIVE_SAVE_AS = ""
NEWEST_FIRST_ARCHIVES = True

# No tags, categories or authors: a newsletter is one stream of issues.
DIRECT_TEMPLATES = ["index", "archives", "404"]
DEFAULT_CATEGORY = "issues"
USE_FOLDER_AS_CATEGORY = False
CATEGORY_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
TAG_SAVE_AS = ""
TAGS_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
DRAFT_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = ""
DEFAULT_PAGINATION = False
DISPLAY_PAGES_ON_MENU = True
DISPLAY_CATEGORIES_ON_MENU = False

# Feeds: issues only, Atom and RSS, full content.
FEED_ALL_ATOM = "feeds/issues.atom.xml"
FEED_ALL_RSS = "feeds/issues.rss.xml"
RSS_FEED_SUMMARY_ONLY = False
FEED_MAX_ITEMS = 52
CATEGORY_FEED_ATOM = None
CATEGORY_FEED_RSS = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
TRANSLATION_FEED_RSS = None
TAG_FEED_ATOM = None
TAG_FEED_RSS = None

# Incremental builds: an unchanged issue file is not parsed again (its parsed form is in the cache).
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CONTENT_CACHING_LAYER = "reader"
CHECK_MODIFIED_METHOD = "sha1"  # by content: safe even where mtimes are coarse (FAT, some NFS)
CACHE_PATH = "cache/pelican"

# Titles come from Plex and are raw text: every template value is escaped unless marked |safe.
JINJA_ENVIRONMENT = {"trim_blocks": True, "lstrip_blocks": True, "autoescape": True, "extensions": []}

# Set by render_site: a digest of theme/static, appended to the stylesheet URL to bust caches.
ASSET_VERSION = ""

TYPOGRIFY = False
OUTPUT_SOURCES = False
SUMMARY_MAX_LENGTH = 60
