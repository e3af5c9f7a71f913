// The gallery's windowed grid with synthetic items (?count=N, default 100,000), for measuring first render and
// scrolling in a real browser (test/e2e/gallery-perf.e2e.ts). A page of its own (vite.config.ts here), never part
// of the app's renderer build.
import { mount } from 'svelte';
import GridBench from './GridBench.svelte';
import '../src/app.css';

const count = Number(new URLSearchParams(window.location.search).get('count') ?? 100_000);
const target = document.getElementById('app');
if (!target) throw new Error('The page has no #app element.');
performance.mark('bench-mount-start');
mount(GridBench, { target, props: { count } });
