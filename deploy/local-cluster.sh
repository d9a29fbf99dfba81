#!/bin/sh
# deploy/local-cluster.sh up|down|status DIR
#
# A whole scale-out deployment on 127.0.0.1, for trying it and for the
# fault tests (docs/RELIABILITY.md):
#   - nats-server built from its Go module (the version in go.mod), three
#     nodes with JetStream, file storage, sync_interval: always;
#   - the stream with 3 replicas (DIR/adcensus.yaml, stream.replicas: 3);
#   - two fingerprint workers, two cluster processes (one writer, one
#     standby), two index replicas (a serves the API on 127.0.0.1:18080,
#     b on 127.0.0.1:18081; ADCENSUS_API_A/ADCENSUS_API_B change the
#     ports, written to DIR/api.ports);
#   - the consumers' ack wait 10s (ADCENSUS_ACK_WAIT changes it);
#   - one pseudonymisation key, copied into every data directory.
# Every process has its data dir and log under DIR; DIR/pids holds their
# pids, and 'down' stops exactly those. The client URL is in DIR/nats.url.
# Then (in the repository, with 'adcensus demo serve' running):
#   adcensus run --config DIR/adcensus.yaml      # crawl; waits until processed
#   curl -H "Authorization: Bearer $(cat DIR/index-a.token)" \
#     'http://127.0.0.1:18080/api/export/counts?by=arena&format=csv'
set -eu

usage() { echo "usage: $0 up|down|status DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
DIR=$2
REPO=$(cd "$(dirname "$0")/.." && pwd)
NATS_PORTS="14222 14223 14224"
ROUTE_PORTS="16222 16223 16224"
# The index replicas' API ports and the consumers' ack wait can be
# changed from the environment (ports taken by something else; measuring
# recovery with another ack wait).
API_A=${ADCENSUS_API_A:-18080}
API_B=${ADCENSUS_API_B:-18081}
ACK_WAIT=${ADCENSUS_ACK_WAIT:-10s}

start() { # name, then the command
	name=$1; shift
	"$@" >"$DIR/logs/$name.log" 2>&1 &
	echo $! >"$DIR/pids/$name.pid"
}

up() {
	mkdir -p "$DIR/bin" "$DIR/pids" "$DIR/logs"
	DIR=$(cd "$DIR" && pwd)
	for f in "$DIR"/pids/*.pid; do
		[ -e "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && { echo "$DIR is running already ($0 down $DIR first)" >&2; exit 1; }
	done
	echo "building nats-server and adcensus into $DIR/bin"
	(cd "$REPO" && go build -o "$DIR/bin/nats-server" github.com/nats-io/nats-server/v2 && go build -o "$DIR/bin/adcensus" ./cmd/adcensus)
	routes=""
	for p in $ROUTE_PORTS; do routes="$routes nats-route://127.0.0.1:$p"; done
	i=1
	set -- $ROUTE_PORTS
	for p in $NATS_PORTS; do
		mkdir -p "$DIR/nats-$i"
		cat >"$DIR/nats-$i.conf" <<CONF
server_name: nats-$i
listen: 127.0.0.1:$p
http: 127.0.0.1:$((p + 4000))
jetstream {
  store_dir: "$DIR/nats-$i"
  sync_interval: always
}
cluster {
  name: adcensus-local
  listen: 127.0.0.1:$1
  routes: [$(echo $routes | sed 's/ /, /g')]
}
CONF
		start "nats-$i" "$DIR/bin/nats-server" -c "$DIR/nats-$i.conf"
		shift
		i=$((i + 1))
	done
	url="nats://127.0.0.1:14222,nats://127.0.0.1:14223,nats://127.0.0.1:14224"
	echo "$url" >"$DIR/nats.url"
	for p in $NATS_PORTS; do
		n=0
		until curl -sf "http://127.0.0.1:$((p + 4000))/healthz?js-enabled-only=true" >/dev/null 2>&1; do
			n=$((n + 1)); [ $n -lt 100 ] || { echo "nats on $p not healthy; see $DIR/logs" >&2; exit 1; }
			sleep 0.2
		done
	done
	cat >"$DIR/adcensus.yaml" <<CONF
data_dir: $DIR/crawl
nats_url: $url
stream:
  replicas: 3
  ack_wait: $ACK_WAIT
  duplicate_window: 2m
arenas:
  - $REPO/configs/arenas/blomstra.yaml
  - $REPO/configs/arenas/nattlinjen.yaml
CONF
	# One key for every process (deploy/README.md: distributed as a secret).
	if [ ! -f "$DIR/secret.key" ]; then
		(umask 077 && head -c 32 /dev/urandom >"$DIR/secret.key")
	fi
	for d in crawl fingerprint-1 fingerprint-2 cluster-1 cluster-2 index-a index-b; do
		mkdir -p "$DIR/$d" && chmod 700 "$DIR/$d"
		cp "$DIR/secret.key" "$DIR/$d/secret.key" && chmod 600 "$DIR/$d/secret.key"
	done
	A="$DIR/bin/adcensus"
	C="--config $DIR/adcensus.yaml"
	# A researcher's API token per replica (docs/ACCESS.md), for reading
	# the counts: DIR/index-a.token, DIR/index-b.token.
	for r in a b; do
		[ -s "$DIR/index-$r.token" ] && continue
		(umask 077 && "$A" token create --role researcher --name local-cluster --data "$DIR/index-$r" >"$DIR/index-$r.token" 2>/dev/null)
	done
	start fingerprint-1 "$A" stages --only fingerprint $C --data "$DIR/fingerprint-1"
	start fingerprint-2 "$A" stages --only fingerprint $C --data "$DIR/fingerprint-2"
	start cluster-1 "$A" stages --only cluster $C --data "$DIR/cluster-1"
	start cluster-2 "$A" stages --only cluster $C --data "$DIR/cluster-2"
	start index-a "$A" stages --only index --replica a --serve 127.0.0.1:$API_A $C --data "$DIR/index-a"
	start index-b "$A" stages --only index --replica b --serve 127.0.0.1:$API_B $C --data "$DIR/index-b"
	sleep 5
	for f in "$DIR"/pids/*.pid; do
		kill -0 "$(cat "$f")" 2>/dev/null || { echo "$(basename "$f" .pid) exited; see $DIR/logs" >&2; exit 1; }
	done
	echo "up: NATS $url (also in $DIR/nats.url); logs in $DIR/logs"
	echo "crawl:  (adcensus demo serve &) ; $A run --config $DIR/adcensus.yaml"
	echo "$API_A $API_B" >"$DIR/api.ports"
	echo "counts: curl -H \"Authorization: Bearer \$(cat $DIR/index-a.token)\" 'http://127.0.0.1:$API_A/api/export/counts?by=arena&format=csv'"
	echo "status: $A status --nats $url"
}

down() {
	[ -d "$DIR/pids" ] || { echo "no $DIR/pids: nothing started there" >&2; exit 1; }
	# Stages first, then NATS.
	for f in "$DIR"/pids/[!n]*.pid "$DIR"/pids/nats-*.pid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f")
		if kill -0 "$pid" 2>/dev/null; then
			kill "$pid"
			n=0
			while kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
		fi
		rm -f "$f"
	done
	echo "down: $DIR"
}

status() {
	for f in "$DIR"/pids/*.pid; do
		[ -e "$f" ] || continue
		if kill -0 "$(cat "$f")" 2>/dev/null; then s=running; else s=stopped; fi
		echo "$(basename "$f" .pid) $(cat "$f") $s"
	done
}

case $cmd in
up) up ;;
down) down ;;
status) status ;;
*) usage ;;
esac
