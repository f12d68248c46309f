# bash completion for wslgo-guardctl(1): commands, their options and option values, and the
# guarded workspaces' roots for a PATH argument (from `wslgo-guardctl __workspaces`, which prints
# nothing when the guard is not running). Needs only bash; bash-completion loads it on demand.

# The guarded workspaces' roots that begin with $1, one per line. Typed as ~/..., they match
# the roots under $HOME and come back in the same ~/ form.
_wslgo_guardctl_workspaces() {
  local ctl=${COMP_WORDS[0]} root typed=$1 tilde=""
  # A wslgo-guardctl named by its path (./build/cli/wslgo-guardctl) answers for itself.
  [[ $ctl == */* && -x $ctl ]] || ctl=wslgo-guardctl
  if [[ $typed == "~/"* && -n $HOME ]]; then
    tilde=yes
    typed=$HOME/${typed#"~/"}
  fi
  while IFS= read -r root; do
    [[ -n $root && $root == "$typed"* ]] || continue
    if [[ -n $tilde ]]; then
      printf '~/%s\n' "${root#"$HOME"/}"
    else
      printf '%s\n' "$root"
    fi
  done < <("$ctl" __workspaces 2>/dev/null)
}

# COMPREPLY from the words of $1 (one per line) that begin with $cur.
_wslgo_guardctl_reply() {
  local IFS=$'\n'
  COMPREPLY=($(compgen -W "$1" -- "$cur"))
}

_wslgo_guardctl_directories() {
  local IFS=$'\n'
  compopt -o filenames 2>/dev/null || :
  COMPREPLY=($(compgen -d -- "$cur"))
}

# A workspace PATH: the guarded roots matching what is typed, else any directory (a directory
# inside a workspace names it too).
_wslgo_guardctl_workspace_path() {
  local IFS=$'\n'
  COMPREPLY=($(_wslgo_guardctl_workspaces "$cur"))
  if ((${#COMPREPLY[@]} > 0)); then
    compopt -o filenames 2>/dev/null || :
  else
    _wslgo_guardctl_directories
  fi
}

_wslgo_guardctl() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  COMPREPLY=()
  # --opt=VALUE arrives as "--opt" "=" "VALUE" (COMP_WORDBREAKS holds '=').
  if [[ $cur == = ]]; then
    cur=""
  elif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
    prev=${COMP_WORDS[COMP_CWORD - 2]}
  fi

  local global_options="--no-color --no-colour --help --version"
  local commands="status add remove gc trim restart profile logs reload dry-run version doctor
editor-config watch inspect simulate config"

  # The command (and config's own subcommand): the first words that are not options.
  local command="" subcommand="" i word
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    [[ $word == -* || $word == = ]] && continue
    # A value given to the option before it is not the command.
    case ${COMP_WORDS[i - 1]} in
      --reason | -n | --lines | --editor | --proc | --sys | --etc | --interval | --minutes | \
        -c | --config | --defaults) continue ;;
    esac
    if [[ -z $command ]]; then
      command=$word
    elif [[ $command == config && -z $subcommand ]]; then
      subcommand=$word
    fi
  done

  if [[ -z $command ]]; then
    if [[ $cur == -* ]]; then
      _wslgo_guardctl_reply "${global_options// /$'\n'}"
    else
      _wslgo_guardctl_reply "${commands//[ $'\n']/$'\n'}"
    fi
    return 0
  fi

  # Option values first.
  case $prev in
    --editor)
      _wslgo_guardctl_reply $'vscode\nneovim\nhelix\nemacs\nzed'
      return 0
      ;;
    --proc | --sys | --etc)
      _wslgo_guardctl_directories
      return 0
      ;;
    -c | --config | --defaults)
      compopt -o filenames 2>/dev/null || :
      local IFS=$'\n'
      COMPREPLY=($(compgen -f -- "$cur"))
      return 0
      ;;
    --reason | -n | --lines | --interval | --minutes)
      return 0 # free text or a number
      ;;
  esac

  local options="--help" path=""
  case $command in
    status) options+=" --json" ;;
    add) path=directory ;;
    remove | gc | trim | profile) path=workspace ;;
    restart)
      options+=" --reason"
      path=workspace
      ;;
    logs)
      options+=" -f --follow -n --lines"
      path=workspace
      ;;
    editor-config)
      options+=" --editor"
      path=workspace
      ;;
    doctor) options+=" --json --proc --sys --etc" ;;
    inspect) options+=" --json --proc --sys" ;;
    watch) options+=" --interval --minutes" ;;
    simulate)
      options+=" -c --config --defaults -n --dry-run"
      path=file
      ;;
    dry-run)
      if [[ $cur != -* ]]; then
        _wslgo_guardctl_reply $'on\noff'
        return 0
      fi
      ;;
    config)
      if [[ -z $subcommand ]]; then
        [[ $cur == -* ]] || {
          _wslgo_guardctl_reply check
          return 0
        }
      else
        options+=" --defaults"
        path=file
      fi
      ;;
  esac
  options+=" --no-color --no-colour"

  if [[ $cur == -* ]]; then
    _wslgo_guardctl_reply "${options// /$'\n'}"
    return 0
  fi
  case $path in
    directory) _wslgo_guardctl_directories ;;
    workspace) _wslgo_guardctl_workspace_path ;;
    file)
      compopt -o filenames 2>/dev/null || :
      local IFS=$'\n'
      COMPREPLY=($(compgen -f -- "$cur"))
      ;;
  esac
  return 0
}

complete -F _wslgo_guardctl wslgo-guardctl
