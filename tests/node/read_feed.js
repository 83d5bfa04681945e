// Reads a feed file with the Podcast Index's own parser (podcast-partytime) and prints what it found as JSON.
const fs = require("fs");
const { parseFeed } = require("podcast-partytime");
const parsed = parseFeed(fs.readFileSync(process.argv[2], "utf8"), { allowMissingGuid: false });
if (!parsed) {
  process.stderr.write("podcast-partytime could not parse the feed\n");
  process.exit(1);
}
process.stdout.write(JSON.stringify(parsed));
