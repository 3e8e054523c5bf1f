/* The program the exec tests run: dynamically linked, so ld.so and libc are mapped executable. */
int main(void)
{
	return 0;
}
