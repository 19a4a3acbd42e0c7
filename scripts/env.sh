# Sourced by the scripts: puts the project's pinned tools first on PATH.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$_root/scripts/node_modules/.bin:$HOME/.cargo/bin:$PATH"
unset _root
