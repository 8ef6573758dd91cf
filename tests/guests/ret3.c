/* ret3: returning 3 from main is exit(3); stdout is still flushed. */
#include <stdio.h>

int main(int argc, char **argv)
{
    (void)argv;
    int s = 0;
    for (int i = 0; i < argc + 5; i++) s += i;
    printf("sum %d, returning 3\n", s);
    return 3;
}
