#!/usr/bin/env bash
# Make sure a Docker engine answers, on machines without systemd (CI, fresh development boxes).
#
# Idempotent: installs what is missing (Debian's docker.io, debootstrap, docker-registry; one
# apt-get update), starts dockerd in the background (log: $DOJO_DOCKERD_LOG) unless an engine
# already answers, and waits until `docker info` answers (timeout: $DOJO_DOCKERD_TIMEOUT s, then the
# log tail is shown). Stale state from an engine that was killed (pid file, socket, containerd pid)
# is removed first, but only when no dockerd of that pid file is alive.
#
# Run it (`.ci/start-docker.sh`) or source it (`. .ci/start-docker.sh`; returns instead of exiting).
# Knobs (defaults in brackets): DOJO_DOCKERD_LOG [/var/log/dockerd.log], DOJO_DOCKERD_TIMEOUT [60],
# DOJO_DOCKER_SOCK [/var/run/docker.sock], DOJO_DOCKER_PIDFILE [/var/run/docker.pid],
# DOJO_DOCKERD_ARGS [none: extra dockerd arguments, word-split], DOJO_SKIP_INSTALL [0].
# Caution for a second engine on one host: `--bridge none` makes dockerd DELETE the docker0 link
# of the first engine (moby removeDefaultBridgeInterface); give it its own `--bridge`/`--bip`.

_dojo_start_docker() {
	local log="${DOJO_DOCKERD_LOG:-/var/log/dockerd.log}"
	local timeout="${DOJO_DOCKERD_TIMEOUT:-60}"
	local sock="${DOJO_DOCKER_SOCK:-/var/run/docker.sock}"
	local pidfile="${DOJO_DOCKER_PIDFILE:-/var/run/docker.pid}"
	local sudo="" started=""
	[ "$(id -u)" = 0 ] || sudo="sudo"

	_dojo_engine_answers() { docker -H "unix://$sock" info > /dev/null 2>&1; }
	_dojo_dockerd_alive() {
		local pid
		[ -s "$pidfile" ] || return 1
		pid="$(cat "$pidfile" 2> /dev/null)" || return 1
		[ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -qx dockerd "/proc/$pid/comm" 2> /dev/null
	}

	# 1. Packages (only what is missing; apt-get update at most once).
	if [ "${DOJO_SKIP_INSTALL:-0}" != 1 ]; then
		local missing=()
		command -v dockerd > /dev/null 2>&1 || missing+=(docker.io)
		command -v debootstrap > /dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
		command -v docker-registry > /dev/null 2>&1 || missing+=(docker-registry)
		if [ "${#missing[@]}" -gt 0 ]; then
			echo "start-docker: installing ${missing[*]}" >&2
			# No service may start during installation (there is no init; we start dockerd below).
			local policy=/usr/sbin/policy-rc.d own_policy=0
			if [ ! -e "$policy" ]; then
				printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" > /dev/null && $sudo chmod +x "$policy"
				own_policy=1
			fi
			local status=0
			$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
				$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" \
					> /dev/null || status=$?
			[ "$own_policy" = 1 ] && $sudo rm -f "$policy"
			if [ "$status" != 0 ]; then
				echo "start-docker: apt-get install ${missing[*]} failed (exit $status)" >&2
				return 1
			fi
		fi
	fi

	# 2. An engine answers already: nothing to do.
	if _dojo_engine_answers; then
		echo "start-docker: engine answers on $sock" >&2
		return 0
	fi

	# 3. Start dockerd unless one is alive (just starting up): then only wait for it.
	if ! _dojo_dockerd_alive; then
		# Leftovers of a killed engine would stop the new one ("pid file found", socket in use).
		$sudo rm -f "$pidfile" "$sock"
		if [ "$pidfile" = /var/run/docker.pid ]; then
			$sudo rm -f /var/run/docker/containerd/containerd.pid
		fi
		$sudo mkdir -p "$(dirname "$log")"
		echo "start-docker: starting dockerd (log: $log)" >&2
		# shellcheck disable=SC2086  # DOJO_DOCKERD_ARGS is word-split on purpose
		$sudo setsid sh -c "exec dockerd -H unix://$sock -p $pidfile ${DOJO_DOCKERD_ARGS:-} \
			>> '$log' 2>&1" < /dev/null &
		started="$!"
		disown 2> /dev/null || true
	fi

	# 4. Wait until `docker info` answers.
	local waited=0
	while ! _dojo_engine_answers; do
		if [ -n "$started" ] && [ ! -d "/proc/$started" ]; then
			echo "start-docker: dockerd exited at start; last lines of $log:" >&2
			tail -n 30 "$log" >&2 2> /dev/null || true
			return 1
		fi
		if [ "$waited" -ge "$((timeout * 10))" ]; then
			echo "start-docker: no engine answered on $sock after ${timeout} s; last lines of $log:" >&2
			tail -n 30 "$log" >&2 2> /dev/null || true
			return 1
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
	echo "start-docker: engine answers on $sock after $((waited / 10)).$((waited % 10)) s" >&2
	return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -uo pipefail
	_dojo_start_docker
	exit $?
else
	_dojo_start_docker
fi
