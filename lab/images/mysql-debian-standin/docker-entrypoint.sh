#!/bin/bash
# Entrypoint of the MariaDB 10.11 stand-in for mysql:5.7 (manifests/README.md lists every
# difference from the real image).
#
# What it does, and why:
# * Initialises an empty datadir the way the official mysql:5.7 entrypoint does
#   (MYSQL_ROOT_PASSWORD / MYSQL_ALLOW_EMPTY_PASSWORD / MYSQL_RANDOM_ROOT_PASSWORD,
#   root@'%', no password-less root accounts), because the upstream StatefulSet relies on it.
# * Translates `super-read-only`, which mariadbd does not know (it aborts on it), into
#   read-only plus "no account may bypass read_only" (REVOKE READ_ONLY ADMIN), which is what
#   MySQL's super_read_only means.
# * Refuses, with a clear message, any option or setting it cannot honour.
set -Eeuo pipefail
shopt -s extglob nullglob

readonly ME="mysql-standin entrypoint"
readonly INIT_SOCKET=/run/mysqld/standin-init.sock
readonly INIT_FILE=/run/mysqld/standin-init.sql

note() { printf '%s [Note] [%s]: %s\n' "$(date --rfc-3339=seconds)" "$ME" "$*" >&2; }
die() {
	printf '%s [ERROR] [%s]: %s\n' "$(date --rfc-3339=seconds)" "$ME" "$*" >&2
	exit 1
}

# VAR or VAR_FILE, like the official image (both at once is an error there too).
file_env() {
	local var=$1 file_var="${1}_FILE" default=${2:-}
	if [[ -n ${!var:-} && -n ${!file_var:-} ]]; then
		die "both $var and $file_var are set (but are exclusive)"
	fi
	local value=$default
	if [[ -n ${!var:-} ]]; then
		value=${!var}
	elif [[ -n ${!file_var:-} ]]; then
		value=$(<"${!file_var}")
	fi
	export "$var"="$value"
	unset "$file_var"
}

# MySQL boolean option values; anything else cannot be honoured.
parse_bool() {
	case ${1,,} in
	'' | on | true | 1) echo 1 ;;
	off | false | 0) echo 0 ;;
	*) die "cannot parse boolean value '$1' of option super-read-only" ;;
	esac
}

# Sets SERVER_OPTS (what mariadbd gets) and SUPER_READ_ONLY (0/1) from mysqld options:
# option files first (the same groups mysqld reads, as my_print_defaults lists them), then
# the command line, so the last occurrence wins as in mysqld.
translate_options() {
	local -a defaults_args=() file_opts=()
	# --defaults-file and friends must come first and select the option files.
	while [[ $# -gt 0 && $1 == --@(no-defaults|defaults-file=*|defaults-extra-file=*|defaults-group-suffix=*) ]]; do
		defaults_args+=("$1")
		shift
	done
	local listed
	listed=$(my_print_defaults "${defaults_args[@]}" --mysqld) ||
		die "my_print_defaults ${defaults_args[*]} --mysqld failed: cannot read the option files"
	[[ -n $listed ]] && mapfile -t file_opts <<<"$listed"
	SERVER_OPTS=()
	SUPER_READ_ONLY=0
	local opt name value names_seen=' '
	for opt in "${file_opts[@]}" "$@"; do
		name=${opt#--}
		name=${name%%=*}
		name=${name//_/-}
		name=${name#loose-}
		names_seen+="$name "
		value=
		[[ $opt == *=* ]] && value=${opt#*=}
		case $name in
		super-read-only | enable-super-read-only) SUPER_READ_ONLY=$(parse_bool "$value") ;;
		skip-super-read-only | disable-super-read-only) SUPER_READ_ONLY=0 ;;
		init-file)
			die "option '$opt': the stand-in uses --init-file itself (to emulate super-read-only) and cannot honour another one"
			;;
		*) SERVER_OPTS+=("$opt") ;;
		esac
	done
	if [[ $names_seen != *" relay-log "* && $names_seen != *" log-basename "* ]]; then
		# MySQL names relay logs <hostname>-relay-bin; MariaDB would take "mysqld" from
		# Debian's pid-file. Placed first, so that any configured name wins. uname, not
		# hostname: the mysql:5.7 stand-in has no hostname binary, like the real image.
		SERVER_OPTS=("--relay-log=$(uname -n)-relay-bin" "${SERVER_OPTS[@]}")
	fi
	if [[ $SUPER_READ_ONLY == 1 ]]; then
		# MySQL: setting super_read_only also sets read_only, whatever read_only said.
		SERVER_OPTS+=(--read-only=ON)
	fi
	if [[ $(id -u) == 0 ]]; then
		# mysqld drops root itself (the official image uses gosu for the same end).
		SERVER_OPTS=(--user=mysql "${SERVER_OPTS[@]}")
	fi
}

# mariadbd --verbose --help both validates the options (unknown MySQL-only options abort it)
# and prints the effective values; the official mysql image checks its config the same way.
check_config() {
	local err
	err=$(mktemp)
	if ! SERVER_HELP=$(mariadbd --no-defaults "${SERVER_OPTS[@]}" --verbose --help 2>"$err"); then
		# Its [ERROR] lines name the option; the warnings around them are noise here.
		die "mariadbd (MariaDB, standing in for MySQL 5.7) rejects this configuration, so the" \
			"stand-in cannot honour it: $(grep -F '[ERROR]' "$err" || cat "$err")"
	fi
	rm -f "$err"
}

server_var() {
	awk -v name="$1" '$1 == name && /^[^ \t]/ { sub(/^[^ \t]+[ \t]+/, ""); print; exit }' <<<"$SERVER_HELP"
}

sql_escape() {
	local s=${1//\\/\\\\}
	printf '%s' "${s//\'/\\\'}"
}

# Client for the temporary server: its private socket, no option files (a [client] group in
# the pod's conf.d must not change what the initialisation does).
init_sql() {
	mariadb --no-defaults --protocol=socket --socket="$INIT_SOCKET" -uroot "$@"
}

start_init_server() {
	# A private socket and no TCP: probes and clients see nothing until the real start, and
	# the initialisation is not binary-logged (mysql:5.7 uses SQL_LOG_BIN=0 for that).
	mariadbd --no-defaults "${SERVER_OPTS[@]}" --skip-networking --socket="$INIT_SOCKET" \
		--skip-log-bin --skip-slave-start --datadir="$DATADIR" &
	INIT_PID=$!
	local deadline=$((SECONDS + 60))
	until MYSQL_PWD= init_sql -e 'SELECT 1' >/dev/null 2>&1; do
		kill -0 "$INIT_PID" 2>/dev/null || die "the temporary server for initialisation exited"
		((SECONDS < deadline)) || die "the temporary server did not accept connections within 60 s"
		sleep 0.5
	done
}

stop_init_server() {
	kill -TERM "$INIT_PID"
	wait "$INIT_PID" || die "the temporary server did not shut down cleanly"
}

root_setup_sql() {
	local password host
	password=$(sql_escape "$MYSQL_ROOT_PASSWORD")
	host=$(sql_escape "$MYSQL_ROOT_HOST")
	cat <<-EOSQL
		SET @@SESSION.SQL_LOG_BIN = 0;
		-- mariadb-install-db creates root@127.0.0.1, root@::1 and root@<hostname> without a
		-- password; mysql:5.7 has only root@localhost and root@MYSQL_ROOT_HOST.
		SELECT CONCAT('DROP USER ', GROUP_CONCAT(CONCAT(QUOTE(User), '@', QUOTE(Host))))
		  INTO @standin_drop FROM mysql.global_priv
		  WHERE User = '' OR (User = 'root' AND Host <> 'localhost');
		EXECUTE IMMEDIATE IFNULL(@standin_drop, 'DO 0');
		ALTER USER 'root'@'localhost' IDENTIFIED BY '$password';
	EOSQL
	if [[ $MYSQL_ROOT_HOST != localhost ]]; then
		cat <<-EOSQL
			CREATE USER 'root'@'$host' IDENTIFIED BY '$password';
			GRANT ALL ON *.* TO 'root'@'$host' WITH GRANT OPTION;
		EOSQL
	fi
	if [[ -n $MYSQL_DATABASE ]]; then
		printf 'CREATE DATABASE IF NOT EXISTS `%s`;\n' "${MYSQL_DATABASE//\`/\`\`}"
	fi
	if [[ -n $MYSQL_USER && -n $MYSQL_PASSWORD ]]; then
		printf "CREATE USER '%s'@'%%' IDENTIFIED BY '%s';\n" \
			"$(sql_escape "$MYSQL_USER")" "$(sql_escape "$MYSQL_PASSWORD")"
		if [[ -n $MYSQL_DATABASE ]]; then
			printf "GRANT ALL ON \`%s\`.* TO '%s'@'%%';\n" \
				"${MYSQL_DATABASE//\`/\`\`}" "$(sql_escape "$MYSQL_USER")"
		fi
	fi
	if [[ -n $MYSQL_ONETIME_PASSWORD ]]; then
		echo "ALTER USER 'root'@'%' PASSWORD EXPIRE;"
	fi
}

run_initdb_scripts() {
	local f
	for f in /docker-entrypoint-initdb.d/*; do
		case $f in
		*.sh)
			note "running $f"
			if [[ -x $f ]]; then "$f"; else . "$f"; fi
			;;
		*.sql)
			note "running $f"
			init_sql <"$f"
			;;
		*.sql.gz)
			note "running $f"
			gzip -dc "$f" | init_sql
			;;
		*.sql.bz2 | *.sql.xz | *.sql.zst)
			die "$f: the stand-in has no bzip2/xz/zstd and cannot run compressed SQL of that kind"
			;;
		*) note "ignoring $f" ;;
		esac
	done
}

init_datadir() {
	file_env MYSQL_ROOT_PASSWORD
	file_env MYSQL_ROOT_HOST '%'
	file_env MYSQL_DATABASE
	file_env MYSQL_USER
	file_env MYSQL_PASSWORD
	file_env MYSQL_ALLOW_EMPTY_PASSWORD
	file_env MYSQL_RANDOM_ROOT_PASSWORD
	file_env MYSQL_ONETIME_PASSWORD
	if [[ -z $MYSQL_ROOT_PASSWORD && -z $MYSQL_ALLOW_EMPTY_PASSWORD && -z $MYSQL_RANDOM_ROOT_PASSWORD ]]; then
		die "Database is uninitialized and password option is not specified." \
			"You need to specify one of MYSQL_ROOT_PASSWORD, MYSQL_ALLOW_EMPTY_PASSWORD and MYSQL_RANDOM_ROOT_PASSWORD"
	fi
	if [[ $MYSQL_USER == root ]]; then
		die 'MYSQL_USER="root", MYSQL_USER and MYSQL_PASSWORD are for configuring a regular user and cannot be used for the root user'
	fi
	if [[ -n $MYSQL_RANDOM_ROOT_PASSWORD ]]; then
		MYSQL_ROOT_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
		note "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
	fi

	note "Initializing database files in $DATADIR (mariadb-install-db)"
	mariadb-install-db --no-defaults "${SERVER_OPTS[@]}" --datadir="$DATADIR" --rpm \
		--auth-root-authentication-method=normal --skip-test-db --skip-log-bin \
		--skip-name-resolve >/dev/null
	start_init_server
	if [[ -z ${MYSQL_INITDB_SKIP_TZINFO:-} ]]; then
		# mysql:5.7 loads the time zone tables too (CONVERT_TZ with named zones works).
		mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null | init_sql mysql
	fi
	root_setup_sql | init_sql
	# The scripts' clients log in with the new root password, as in mysql:5.7.
	(
		export MYSQL_PWD=$MYSQL_ROOT_PASSWORD
		run_initdb_scripts
	)
	stop_init_server
	note "MySQL (MariaDB stand-in) init process done. Ready for start up."
}

# Written at every start and run by mariadbd before it accepts connections.
# MySQL 5.7: SUPER holders bypass read_only; super_read_only takes that bypass away.
# MariaDB 10.11: the bypass is the READ_ONLY ADMIN privilege (no longer part of SUPER).
# So: super-read-only -> every account loses READ_ONLY ADMIN (root's writes fail with
# error 1290, replication threads are not affected); otherwise every SUPER holder has it.
# sql_log_bin=0: each server decides for itself, nothing of this replicates. Any error
# logs "stand-in: ..." and shuts the server down, instead of leaving root able to write.
write_init_file() {
	local statement
	if [[ $SUPER_READ_ONLY == 1 ]]; then
		statement="SELECT CONCAT('REVOKE READ_ONLY ADMIN ON *.* FROM ', GROUP_CONCAT(DISTINCT GRANTEE)) INTO @standin_sql FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = 'READ_ONLY ADMIN'"
	else
		statement="SELECT CONCAT('GRANT READ_ONLY ADMIN ON *.* TO ', GROUP_CONCAT(DISTINCT s.GRANTEE)) INTO @standin_sql FROM information_schema.USER_PRIVILEGES s WHERE s.PRIVILEGE_TYPE = 'SUPER' AND s.GRANTEE NOT IN (SELECT r.GRANTEE FROM information_schema.USER_PRIVILEGES r WHERE r.PRIVILEGE_TYPE = 'READ_ONLY ADMIN')"
	fi
	# One line per statement: mariadbd splits an init file at line ends, so the compound
	# statement must not span lines.
	cat >"$INIT_FILE" <<-EOSQL
		SET SESSION sql_log_bin = 0;
		BEGIN NOT ATOMIC DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN DECLARE m VARCHAR(512); GET DIAGNOSTICS CONDITION 1 m = MESSAGE_TEXT; SET m = CONCAT('stand-in: cannot set up the read_only bypass for super-read-only=$SUPER_READ_ONLY, shutting down: ', m); SHUTDOWN; SIGNAL SQLSTATE 'HY000' SET MESSAGE_TEXT = m; END; $statement; EXECUTE IMMEDIATE IFNULL(@standin_sql, 'DO 0'); END;
	EOSQL
	chmod 0644 "$INIT_FILE"
}

main() {
	if [[ ${1:-} == -* ]]; then
		set -- mysqld "$@"
	fi
	if [[ ${1:-} != @(mysqld|mariadbd) ]]; then
		exec "$@"
	fi
	shift
	local arg
	for arg in "$@"; do
		if [[ $arg == @(-'?'|--help|-V|--version) ]]; then
			exec mariadbd "$@"
		fi
	done

	translate_options "$@"
	check_config
	DATADIR=$(server_var datadir)
	DATADIR=${DATADIR%/}
	local socket
	socket=$(server_var socket)
	mkdir -p "$DATADIR" "$(dirname "$socket")" /run/mysqld
	if [[ $(id -u) == 0 ]]; then
		# Cloned data arrives owned by root (the clone init container runs as root).
		# Errors are ignored because the sidecar may rename files meanwhile; a real
		# permission problem makes mariadbd fail loudly anyway.
		find "$DATADIR" "$(dirname "$socket")" /run/mysqld \! -user mysql \
			-exec chown mysql:mysql '{}' + 2>/dev/null || true
	fi
	if [[ ! -d $DATADIR/mysql ]]; then
		init_datadir
	fi
	if [[ $SUPER_READ_ONLY == 1 ]]; then
		note "super-read-only: translated to read-only plus REVOKE READ_ONLY ADMIN from every account (MariaDB has no super_read_only)"
	fi
	write_init_file
	exec mariadbd --no-defaults "${SERVER_OPTS[@]}" --init-file="$INIT_FILE"
}

main "$@"
