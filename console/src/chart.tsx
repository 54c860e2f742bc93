// Input, output and DLQ rates (documents a second) over the last minutes, drawn by uPlot. The
// chart is an image to assistive tech, labelled with the latest rates.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface RatePoint {
  /** Seconds since the epoch. */
  at: number;
  input: number;
  output: number;
  dlq: number;
}

const HEIGHT = 220;

export function RateChart({ points }: { points: RatePoint[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const data: uPlot.AlignedData = [points.map((p) => p.at), points.map((p) => p.input), points.map((p) => p.output), points.map((p) => p.dlq)];
  useEffect(() => {
    const el = box.current!;
    plot.current = new uPlot({
      width: Math.max(300, el.clientWidth), height: HEIGHT,
      scales: { x: { time: true } },
      series: [{}, { label: 'input/s', stroke: '#1f6feb', width: 2 }, { label: 'output/s', stroke: '#1a7f37', width: 2 }, { label: 'DLQ/s', stroke: '#cf222e', width: 2 }],
      axes: [{}, { label: 'documents/s' }],
    }, data, el);
    const resize = () => plot.current?.setSize({ width: Math.max(300, el.clientWidth), height: HEIGHT });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.current?.destroy();
    };
  }, []);
  useEffect(() => plot.current?.setData(data), [points]);
  const latest = points[points.length - 1];
  const label = latest
    ? `Rates chart: input ${latest.input.toFixed(1)}, output ${latest.output.toFixed(1)}, DLQ ${latest.dlq.toFixed(1)} documents a second`
    : 'Rates chart: no figures yet (the processor is not running)';
  return <div ref={box} class="chart" role="img" aria-label={label} data-points={points.length} />;
}
