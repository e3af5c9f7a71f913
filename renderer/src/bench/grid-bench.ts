// The gallery's windowed grid with synthetic items (?count=N, default 100,000), for measuring first render and
// scrolling in a real browser (test/e2e/gallery-perf.e2e.ts). Not linked from the app.
import { mount } from 'svelte';
import GridBench from './GridBench.svelte';
import '../app.css';

const count = Number(new URLSearchParams(window.location.search).get('count') ?? 100_000);
const target = document.getElementById('app');
if (!target) throw new Error('The page has no #app element.');
performance.mark('bench-mount-start');
mount(GridBench, { target, props: { count } });
