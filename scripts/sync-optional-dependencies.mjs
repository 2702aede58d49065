// Sets the root package's optionalDependencies to exactly the platform packages under npm/, at the
// root version. Runs in the `version` lifecycle after `napi version` (which versions npm/*), so a
// version commit keeps all of them in step; `napi prepublish` merges the same entries at release.
import fs from 'node:fs'

const root = JSON.parse(fs.readFileSync('package.json', 'utf8'))
const names = fs
  .readdirSync('npm', { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => JSON.parse(fs.readFileSync(`npm/${entry.name}/package.json`, 'utf8')).name)
  .sort()
root.optionalDependencies = Object.fromEntries(names.map((name) => [name, root.version]))
fs.writeFileSync('package.json', `${JSON.stringify(root, null, 2)}\n`)
