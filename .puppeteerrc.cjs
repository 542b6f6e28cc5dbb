// Never download a browser: tests use Debian's chromium at /usr/bin/chromium.
module.exports = { skipDownload: true };
