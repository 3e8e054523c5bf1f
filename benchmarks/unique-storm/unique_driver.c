/*
 * Driver of the unique-binaries storm: every exec is of a file never executed before.
 *   unique_driver make <src> <dir> <first> <n>  writes <dir>/u-<i> for i in [first, first+n): a copy of
 *                                               <src> followed by an 8-byte trailer holding i, so each copy
 *                                               has its own digest (the ELF loader ignores bytes past the
 *                                               last segment); mode 0755; prints "made <n>"
 *   unique_driver run <dir> <first> <n> <w> [gap]
 *                                               w workers exec the copies [first, first+n) once each (worker
 *                                               k takes first+k, first+k+w, ...) as fast as they can, or with
 *                                               gap seconds between one worker's execs; prints
 *                                               "done <ok> <failed> <seconds>"
 * A child exit status of 0 proves its exec happened.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int make(const char *src, const char *dir, long first, long n)
{
	int in = open(src, O_RDONLY);
	if (in < 0) {
		perror(src);
		return 2;
	}
	struct stat st;
	if (fstat(in, &st) != 0) {
		perror("fstat");
		return 2;
	}
	char *bytes = malloc(st.st_size + 8);
	if (bytes == NULL || read(in, bytes, st.st_size) != st.st_size) {
		perror("read");
		return 2;
	}
	close(in);
	char path[4096];
	for (long i = first; i < first + n; i++) {
		memcpy(bytes + st.st_size, &i, 8);
		snprintf(path, sizeof path, "%s/u-%ld", dir, i);
		int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
		if (out < 0 || write(out, bytes, st.st_size + 8) != st.st_size + 8 || close(out) != 0) {
			perror(path);
			return 2;
		}
	}
	printf("made %ld\n", n);
	return 0;
}

static int run_once(char *child)
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
	int status;
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int run(const char *dir, long first, long n, int workers, double gap)
{
	int fds[2];
	if (pipe(fds) != 0) {
		perror("pipe");
		return 2;
	}
	double start = now();
	for (int k = 0; k < workers; k++) {
		if (fork() == 0) {
			close(fds[0]);
			long counts[2] = {0, 0};
			char path[4096];
			for (long i = first + k; i < first + n; i += workers) {
				snprintf(path, sizeof path, "%s/u-%ld", dir, i);
				counts[run_once(path) == 0 ? 0 : 1]++;
				if (gap > 0) {
					struct timespec ts = {(time_t)gap, (long)((gap - (time_t)gap) * 1e9)};
					nanosleep(&ts, NULL);
				}
			}
			if (write(fds[1], counts, sizeof counts) != sizeof counts)
				_exit(1);
			_exit(0);
		}
	}
	close(fds[1]);
	long ok = 0, failed = 0, counts[2];
	while (read(fds[0], counts, sizeof counts) == sizeof counts) {
		ok += counts[0];
		failed += counts[1];
	}
	while (wait(NULL) > 0)
		;
	printf("done %ld %ld %.3f\n", ok, failed, now() - start);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "make") == 0)
		return make(argv[2], argv[3], atol(argv[4]), atol(argv[5]));
	if ((argc == 6 || argc == 7) && strcmp(argv[1], "run") == 0)
		return run(argv[2], atol(argv[3]), atol(argv[4]), atoi(argv[5]), argc == 7 ? atof(argv[6]) : 0);
	fprintf(stderr, "usage: unique_driver make SRC DIR FIRST N | run DIR FIRST N WORKERS [GAP]\n");
	return 2;
}
