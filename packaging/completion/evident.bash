# bash completion for evident(1).
#
# Installed as /usr/share/bash-completion/completions/evident; works alone
# too (source it), as it needs nothing from the bash-completion package.
# The option lists follow `evident COMMAND --help`; tests/packaging checks
# they agree with the binary.

_evident_commands="collect controls daemon demo diff keygen policy report request sign status verify"

# Options per command, each followed by ':' when it takes a value.
_evident_options()
{
	case $1 in
	collect) echo "--shard: --output: --no-progress --help" ;;
	controls) echo "--json --help" ;;
	daemon) echo "--once --help" ;;
	demo) echo "--control: --findings-only --output: --help" ;;
	diff) echo "--format: --key: --allow-pruned --help" ;;
	keygen) echo "--out: --force --help" ;;
	policy) echo "--member --help" ;;
	report) echo "--format: --output: --key: --allow-pruned --history: --help" ;;
	request) echo "--region: --help" ;;
	sign) echo "--service: --region: --time: --unsigned-payload --no-normalize-path --content-sha256-header --unsigned-session-token --show: --help" ;;
	status) echo "--json --help" ;;
	verify) echo "--key: --trust-embedded-key --allow-pruned --help" ;;
	'') echo "--config: --profile: --log-format: --verbose --quiet --version --help" ;;
	esac
}

_evident_services="sts iam organizations cloudtrail config ec2 rds lambda s3 elb elbv2"

_evident_regions="us-east-1 us-east-2 us-west-1 us-west-2 af-south-1 ap-east-1
ap-south-1 ap-south-2 ap-southeast-1 ap-southeast-2 ap-southeast-3
ap-southeast-4 ap-northeast-1 ap-northeast-2 ap-northeast-3 ca-central-1
ca-west-1 eu-central-1 eu-central-2 eu-west-1 eu-west-2 eu-west-3 eu-south-1
eu-south-2 eu-north-1 il-central-1 me-south-1 me-central-1 sa-east-1
cn-north-1 cn-northwest-1 us-gov-east-1 us-gov-west-1"

# Sets COMPREPLY to the words of $1 (a list) starting with $2.
_evident_words()
{
	local w
	COMPREPLY=()
	for w in $1; do
		[[ $w == "$2"* ]] && COMPREPLY+=("$w")
	done
}

# Files (or with -d, directories) starting with $2, one per entry, names
# with spaces kept whole.
_evident_files()
{
	local kind=-f cur=$1
	if [[ $1 == -d ]]; then
		kind=-d
		cur=$2
	fi
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen "$kind" -- "$cur")
}

# The profiles of the AWS config and credentials files.
_evident_profiles()
{
	local f line names=""
	for f in "${AWS_CONFIG_FILE:-$HOME/.aws/config}" \
		"${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}"; do
		[[ -r $f ]] || continue
		while IFS= read -r line; do
			if [[ $line =~ ^\[(profile[[:space:]]+)?([^][:space:]]+)\] ]]; then
				names+=" ${BASH_REMATCH[2]}"
			fi
		done <"$f"
	done
	_evident_words "$names" "$1"
}

# Control IDs of the catalog in force, as `evident controls` lists them.
_evident_controls()
{
	local ids
	ids=$("$1" controls 2>/dev/null |
		sed -n 's/^\([A-Z][A-Z]*-[0-9][0-9.]*\)[[:space:]].*/\1/p')
	_evident_words "$ids" "$2"
}

_evident()
{
	local cur=${COMP_WORDS[COMP_CWORD]}
	local prev=${COMP_WORDS[COMP_CWORD - 1]}
	local prog=${COMP_WORDS[0]}
	local cmd="" nargs=0 i w

	# The command is the first word that is neither a global option nor
	# the value of one; positional words after it are counted.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ -z $cmd ]]; then
			case $w in
			--config | --profile | --log-format) ((i++)) ;;
			-*) ;;
			*) cmd=$w ;;
			esac
		else
			case $w in
			-*)
				if [[ " $(_evident_options "$cmd") " == *" $w: "* ]]; then
					((i++))
				fi
				;;
			*) ((nargs++)) ;;
			esac
		fi
	done

	# The value of an option.
	case $prev in
	--config | --key) _evident_files "$cur"; return ;;
	--out) _evident_files "$cur"; return ;;
	--output)
		if [[ $cmd == collect || $cmd == demo ]]; then
			_evident_files -d "$cur"
		else
			_evident_files "$cur"
		fi
		return
		;;
	--profile) _evident_profiles "$cur"; return ;;
	--region) _evident_words "$_evident_regions" "$cur"; return ;;
	--service) _evident_words "$_evident_services" "$cur"; return ;;
	--show)
		_evident_words "canonical string-to-sign authorization request" "$cur"
		return
		;;
	--format)
		if [[ $cmd == diff ]]; then
			_evident_words "text json" "$cur"
		else
			_evident_words "html md csv json ocsf" "$cur"
		fi
		return
		;;
	--log-format) _evident_words "text journal json" "$cur"; return ;;
	--control) _evident_controls "$prog" "$cur"; return ;;
	--shard | --time | --history) COMPREPLY=(); return ;;
	esac

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			_evident_words "$(_evident_options '' | tr -d :)" "$cur"
		else
			_evident_words "$_evident_commands" "$cur"
		fi
		return
	fi

	if [[ $cur == -* ]]; then
		_evident_words "$(_evident_options "$cmd" | tr -d :)" "$cur"
		return
	fi

	# Positional arguments.
	case $cmd in
	request)
		if ((nargs == 0)); then
			_evident_words "$_evident_services" "$cur"
		else
			COMPREPLY=()
		fi
		;;
	verify | report | diff) _evident_files -d "$cur" ;;
	*) COMPREPLY=() ;;
	esac
}

complete -F _evident evident
