/*
 * Test driver for the exec integration tests: fork+exec a child program and count, independently of
 * the probe, how many execs succeeded.
 *   exec_driver count <child> <n>          runs the child n times, prints each child pid, then "done <ok> <failed>"
 *   exec_driver each <child>...            runs each child once, in order, and prints as count does
 *   exec_driver spaced <ms> <child>...      as each, with a pause of ms milliseconds after each child exits
 *   exec_driver storm <child> <seconds> <w> w workers exec in a loop for the given time, prints "done <ok> <failed>"
 *   exec_driver rate <child> <seconds> <r>  one loop execs at r per second for the given time (the n-th exec is due
 *                                           at start + n/r; a late one runs at once, without skipping), prints
 *                                           "done <ok> <failed> <late>", late = execs started over 1 ms after due
 * A child exit status of 0 proves its exec happened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int run_once(char *child, pid_t *pid_out)
{
	char *argv[] = {child, NULL};
	char *envp[] = {NULL};
	pid_t pid = vfork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execve(child, argv, envp);
		_exit(127);
	}
	*pid_out = pid;
	int status;
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Runs the child once and counts it; prints its pid when it succeeded. */
static void run_and_print(char *child, long *ok, long *failed)
{
	pid_t pid = 0;

	if (run_once(child, &pid) == 0) {
		(*ok)++;
		printf("%d\n", (int)pid);
	} else {
		(*failed)++;
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "count") == 0) {
		long n = atol(argv[3]), ok = 0, failed = 0;
		for (long i = 0; i < n; i++)
			run_and_print(argv[2], &ok, &failed);
		printf("done %ld %ld\n", ok, failed);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "each") == 0) {
		long ok = 0, failed = 0;
		for (int i = 2; i < argc; i++)
			run_and_print(argv[i], &ok, &failed);
		printf("done %ld %ld\n", ok, failed);
		return 0;
	}
	if (argc >= 4 && strcmp(argv[1], "spaced") == 0) {
		long ms = atol(argv[2]), ok = 0, failed = 0;
		struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
		for (int i = 3; i < argc; i++) {
			run_and_print(argv[i], &ok, &failed);
			nanosleep(&pause, NULL);
		}
		printf("done %ld %ld\n", ok, failed);
		return 0;
	}
	if (argc >= 5 && strcmp(argv[1], "storm") == 0) {
		double seconds = atof(argv[3]);
		int workers = atoi(argv[4]);
		int fds[64][2];
		if (workers < 1 || workers > 64)
			return 2;
		for (int w = 0; w < workers; w++) {
			if (pipe(fds[w]) < 0)
				return 2;
			if (fork() == 0) {
				long ok = 0, failed = 0;
				double end = now() + seconds;
				while (now() < end) {
					pid_t pid;
					if (run_once(argv[2], &pid) == 0)
						ok++;
					else
						failed++;
				}
				long counts[2] = {ok, failed};
				if (write(fds[w][1], counts, sizeof(counts)) != sizeof(counts))
					_exit(3);
				_exit(0);
			}
			close(fds[w][1]);
		}
		long ok = 0, failed = 0;
		for (int w = 0; w < workers; w++) {
			long counts[2] = {0, 0};
			if (read(fds[w][0], counts, sizeof(counts)) == sizeof(counts)) {
				ok += counts[0];
				failed += counts[1];
			}
			wait(NULL);
		}
		printf("done %ld %ld\n", ok, failed);
		return 0;
	}
	if (argc >= 5 && strcmp(argv[1], "rate") == 0) {
		double seconds = atof(argv[3]);
		double rate = atof(argv[4]);
		if (!(rate > 0) || !(seconds > 0))
			return 2;
		long ok = 0, failed = 0, late = 0;
		double start = now();
		/* An absolute schedule, so that the time an exec takes does not lower the rate. */
		for (long n = 0;; n++) {
			double due = start + n / rate;
			if (due >= start + seconds)
				break;
			double t = now();
			if (t < due) {
				struct timespec ts;
				ts.tv_sec = (time_t)due;
				ts.tv_nsec = (long)((due - (double)ts.tv_sec) * 1e9);
				while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
					;
			} else if (t - due > 0.001) {
				late++;
			}
			pid_t pid;
			if (run_once(argv[2], &pid) == 0)
				ok++;
			else
				failed++;
		}
		printf("done %ld %ld %ld\n", ok, failed, late);
		return 0;
	}
	fprintf(stderr, "usage: exec_driver count <child> <n> | each <child>... | spaced <ms> <child>... | storm <child> <seconds> <workers> | rate <child> <seconds> <per-second>\n");
	return 2;
}
