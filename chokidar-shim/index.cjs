// chokidar's require entry, answered by watchfiles-node (see "Integrations" in its README).
module.exports = require('../dist/chokidar.cjs')
