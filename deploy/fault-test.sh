#!/bin/sh
# deploy/fault-test.sh DIR [FAULT...]
#
# Crawls the demo arenas through a local cluster (local-cluster.sh) once
# per fault, kills a process with SIGKILL in the middle of the crawl,
# restarts it as a supervisor would, waits until 'adcensus status' says
# drained and checks that both index replicas count the demo's truth
# (249 adverts, 76 persons). Faults: crawler fingerprint writer index
# nats-node nats-all (default: all of them). Needs the demo arenas on
# 127.0.0.1:8081 and :8082 ('adcensus demo serve'). Prints one line per
# fault with the time from the kill until the pipeline was drained again;
# exits non-zero on the first wrong count. Run by the Go test
# TestFaults (cmd/adcensus, ADCENSUS_FAULT=1).
set -eu
[ $# -ge 1 ] || { echo "usage: $0 DIR [FAULT...]" >&2; exit 2; }
DIR=$1; shift
FAULTS=${*:-crawler fingerprint writer index nats-node nats-all}
HERE=$(cd "$(dirname "$0")" && pwd)
WANT_ADS=249 WANT_PERSONS=76

now() { date +%s.%N; }
since() { echo "$(now) $1" | awk '{printf "%.1f", $1 - $2}'; }

restart() { # name: start the process again with the command it had
	cmdline=$(tr '\0' ' ' <"$DIR/cmd/$1")
	sh -c "exec $cmdline" >>"$DIR/logs/$1.log" 2>&1 &
	echo $! >"$DIR/pids/$1.pid"
}

remember() { # keep every process's command line for restart
	mkdir -p "$DIR/cmd"
	for f in "$DIR"/pids/*.pid; do
		n=$(basename "$f" .pid)
		cp "/proc/$(cat "$f")/cmdline" "$DIR/cmd/$n"
	done
}

writer() { # the name of the cluster process holding the lease (retried: under load status may answer late)
	for try in 1 2 3 4 5 6 7 8 9 10; do
		holder=$("$DIR/bin/adcensus" status --json --nats "$(cat "$DIR/nats.url")" 2>/dev/null | sed -n 's/.*"holder": "\([^"]*\)".*/\1/p' | head -1)
		for c in cluster-1 cluster-2; do
			if [ -n "$holder" ] && [ "$(cat "$DIR/$c/node-id")" = "$holder" ]; then
				echo $c
				return 0
			fi
		done
		sleep 0.5
	done
}

wait_drained() {
	n=0
	until "$DIR/bin/adcensus" status --nats "$(cat "$DIR/nats.url")" >/dev/null 2>&1; do
		n=$((n + 1)); [ $n -lt 600 ] || { echo "not drained after 5 minutes" >&2; return 1; }
		sleep 0.5
	done
}

check_counts() {
	fault=$1
	set -- $(cat "$DIR/api.ports")
	for r in a b; do
		port=$1; shift
		total=$(curl -sf -H "Authorization: Bearer $(cat "$DIR/index-$r.token")" "http://127.0.0.1:$port/api/export/counts?by=arena&format=csv" | grep '^\*,')
		[ "$total" = "*,$WANT_ADS,$WANT_PERSONS" ] || { echo "FAIL $fault: replica $r on $port counts $total, want *,$WANT_ADS,$WANT_PERSONS" >&2; return 1; }
	done
}

for fault in $FAULTS; do
	"$HERE/local-cluster.sh" down "$DIR" >/dev/null 2>&1 || true
	rm -rf "$DIR"/nats-? "$DIR"/crawl "$DIR"/fingerprint-? "$DIR"/cluster-? "$DIR"/index-? "$DIR"/index-?.token "$DIR"/cmd
	"$HERE/local-cluster.sh" up "$DIR" >/dev/null
	remember
	url=$(cat "$DIR/nats.url")
	"$DIR/bin/adcensus" run --config "$DIR/adcensus.yaml" --quiet >"$DIR/logs/crawl.log" 2>&1 &
	crawl=$!
	sleep 1.5
	case $fault in
	crawler)
		kill -9 $crawl; t0=$(now); wait $crawl || true
		"$DIR/bin/adcensus" run --config "$DIR/adcensus.yaml" --quiet >>"$DIR/logs/crawl.log" 2>&1 ;;
	fingerprint|index)
		victim=fingerprint-1; [ $fault = index ] && victim=index-a
		kill -9 "$(cat "$DIR/pids/$victim.pid")"; t0=$(now)
		sleep 2; restart $victim; wait $crawl ;;
	writer)
		victim=$(writer); [ -n "$victim" ] || { echo "FAIL: no writer" >&2; exit 1; }
		kill -9 "$(cat "$DIR/pids/$victim.pid")"; t0=$(now)
		sleep 2; restart "$victim"; wait $crawl ;;
	nats-node)
		kill -9 "$(cat "$DIR/pids/nats-2.pid")"; t0=$(now)
		sleep 3; restart nats-2; wait $crawl ;;
	nats-all)
		for i in 1 2 3; do kill -9 "$(cat "$DIR/pids/nats-$i.pid")"; done; t0=$(now)
		sleep 2; for i in 1 2 3; do restart nats-$i; done; wait $crawl || {
			# the crawl's publishes failed while every node was down: run it again (it resumes)
			"$DIR/bin/adcensus" run --config "$DIR/adcensus.yaml" --quiet >>"$DIR/logs/crawl.log" 2>&1; } ;;
	*) echo "unknown fault $fault" >&2; exit 2 ;;
	esac
	wait_drained
	echo "$fault: drained $(since "$t0")s after the kill"
	check_counts "$fault"
	echo "$fault: ok ($WANT_ADS adverts, $WANT_PERSONS persons on both replicas)"
done
"$HERE/local-cluster.sh" down "$DIR" >/dev/null
