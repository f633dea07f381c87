/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * trivial-static: the baseline program of the start-latency benchmarks, a
 * statically linked program that does nothing. Built with -static by its
 * own GNUmakefile rule; bench/run-benches does not run it as a benchmark.
 */
int main(void)
{
    return 0;
}
