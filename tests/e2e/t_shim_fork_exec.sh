# fork, exec, vfork and posix_spawn: each process image gets its own dump,
# a forked child points at its parent's, an exec'd image never overwrites
# the dump of the image before it.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/shim_lib.sh"

# clone: a fork made with syscall(SYS_clone) gets its dump too (the
# previous build's child wrote into the parent's ring as the parent).
for mode in single threaded clone; do
	same_run "fork_$mode" "$PROGS/forker" $mode
	set -- fork_$mode.*.bin
	[ $# -eq 2 ] || fail "fork $mode: expected 2 dumps, got $*"
	parent= child=
	for d; do
		check_dump "$d"
		if [ "$(wfield "$d" 'd["parent"] is not None')" = True ]; then child=$d; else parent=$d; fi
	done
	[ -n "$child" ] && [ -n "$parent" ] || fail "fork $mode: no child dump with a PARENT record"
	ppid=$(wfield "$parent" 'd["process"]["pid"]')
	expect_eq "PARENT pid" "$(wfield "$child" 'd["parent"]["pid"]')" "$ppid"
	expect_eq "PARENT path" "$(wfield "$child" 'd["parent"]["path"]')" "$TMP/$parent"
	expect_eq "child END" "$(wfield "$child" '(d["ends"][0]["how"], d["ends"][0]["status"])')" "(1, 3)"
	expect_eq "FORK event" "$(wfield "$parent" 'd["counts"].get("FORK")')" 1
	expect_eq "child RC_NEW_BLOCK" "$(wfield "$child" 'd["counts"].get("RC_NEW_BLOCK")')" 1
	# the parent's two threads recording at once switched it to the
	# clock; the child runs one thread and counts again: its events
	# from the object it makes on are 1 ns apart
	if [ $mode = threaded ]; then
		steps=$($RCPDUMP --events "$child" | awk '
			$3 == "STACK" || $3 == "STRING" || $3 == "MODULE" { next }
			$3 == "RC_NEW_BLOCK" { on = 1 }
			on && n++ { if ($1 - p != 1) bad++ } { p = $1 }
			END { printf "%d of %d", bad, n - 1 }')
		expect_eq "fork threaded: child steps not counted" "$steps" "0 of 7"
	fi
done

# clone-files: the child shares the parent's descriptors (the dump among
# them); it records nothing and leaves the parent's dump alone.
same_run fork_clone_files "$PROGS/forker" clone-files
check_dump "$(one_dump fork_clone_files)"
expect_eq "clone-files: parent's RC_NEW_BLOCK" \
	"$(wfield "$(one_dump fork_clone_files)" 'd["counts"].get("RC_NEW_BLOCK")')" 1

same_run exec "$PROGS/execer"
first=$(ls exec.*.bin)
[ -f "$first.1" ] || fail "exec: no $first.1 for the second image"
check_dump "$first"
check_dump "$first.1"
expect_eq "exec_index" "$(wfield "$first.1" 'd["process"]["exec_index"]')" 1
expect_eq "second argv" "$(wfield "$first.1" 'd["process"]["argv"][1]')" second
# END(EXEC) twice: the failed exec (recording went on) and the real one.
expect_eq "first ENDs" "$(wfield "$first" '[e["how"] for e in d["ends"]]')" "[4, 4]"
expect_eq "after failed exec" "$(wfield "$first" 'd["counts"].get("MALLOC", 0) >= 1')" True
expect_eq "second END" "$(wfield "$first.1" '(d["ends"][0]["how"], d["ends"][0]["status"])')" "(1, 5)"

same_run spawn "$PROGS/spawn"
for d in spawn.*.bin; do check_dump "$d"; done
# spawn itself, the vfork'd echo, the posix_spawn'd echo, system()'s sh.
n=$(ls spawn.*.bin | wc -l)
expect_eq "spawn dumps" "$n" 4
for d in spawn.*.bin; do
	[ "$(wfield "$d" 'd["parent"] is None')" = True ] || fail "$d: vfork/spawn child must not claim a PARENT"
done
exit 0
