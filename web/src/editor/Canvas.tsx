// The workflow canvas (React Flow). It draws the workflow it is given and
// reports every edit as a new workflow through onChange; it keeps only
// view state of its own (React Flow's measured sizes, the multi-selection,
// the viewport). See graph/mapping.ts for the mapping and the edits.
import {
  Background,
  Controls,
  MiniMap,
  Panel,
  ReactFlow,
  ReactFlowProvider,
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type IsValidConnection,
  type NodeChange,
  type OnNodeDrag,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import './canvas.css';
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent, type JSX, type KeyboardEvent, type PointerEvent } from 'react';
import type { Position, StepStatus, Workflow } from '../api/types';
import { useCatalog } from '../catalog';
import { TRIGGER_ID } from '../model';
import { GROUP_HEADER, GROUP_PADDING, NODE_HEIGHT, NODE_WIDTH, applyAutoLayout, autoLayout } from '../graph/layout';
import {
  addStep,
  connect,
  copySteps,
  disconnect,
  keyboardMoves,
  moveSteps,
  pasteSteps,
  removeSteps,
  STEP_DND_TYPE,
  toGraph,
  type ClipboardData,
  type FlowEdge,
  type FlowNode,
  type StepNodeData,
} from '../graph/mapping';
import { nodeTypes } from './nodes';

export { STEP_DND_TYPE };
const PASTE_OFFSET = { x: 40, y: 40 };
const MESSAGE_MS = 6000;

export interface CanvasProps {
  workflow: Workflow;
  onChange: (next: Workflow, mergeKey?: string) => void; // every edit, incl. moves (mergeKey `move:<id>`)
  selected: string | null; // a step id, TRIGGER_ID, or null
  onSelect: (id: string | null) => void;
  statuses?: Record<string, StepStatus>; // run overlay: step id -> status
  problems?: Record<string, string[]>; // step id or TRIGGER_ID -> messages
  readOnly?: boolean; // run pages: no edits, still select/zoom/fit
  defaultConnection?: string; // for new Lever steps
  onUndo?: () => void;
  onRedo?: () => void;
}

/** Shared by every canvas of the page, so steps copy from one workflow to another. */
let clipboard: ClipboardData | null = null;

export function Canvas(props: CanvasProps): JSX.Element {
  return (
    <ReactFlowProvider>
      <CanvasInner {...props} />
    </ReactFlowProvider>
  );
}

/** What the auto layout depends on: the steps, their scopes and the edges (not positions or inputs). */
function topologyKey(wf: Workflow): string {
  const scope = (steps: Workflow['steps'] | undefined, edges: Workflow['edges']): unknown[] => [
    (steps ?? []).map((s) => [s.id, s.type, s.steps ? scope(s.steps, s.edges) : 0]),
    (edges ?? []).map((e) => [e.from, e.to, e.branch ?? '']),
  ];
  return JSON.stringify(scope(wf.steps, wf.edges));
}

function isEditableTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || !!target.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]');
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return false;
}

/**
 * Whether a rebuilt node draws exactly as the one on screen: the same kind,
 * place, parent, size and data (the step object itself is compared by
 * identity: edits copy only the steps they change).
 */
function sameNode(p: FlowNode, n: FlowNode): boolean {
  if (p.type !== n.type || p.parentId !== n.parentId || p.position.x !== n.position.x || p.position.y !== n.position.y) return false;
  if (p.style?.width !== n.style?.width || p.style?.height !== n.style?.height) return false;
  const pd = p.data as Record<string, unknown>;
  const nd = n.data as Record<string, unknown>;
  const keys = Object.keys(nd);
  return keys.length === Object.keys(pd).length && keys.every((k) => sameValue(pd[k], nd[k]));
}

/**
 * Keeps React Flow's view state (measured size, selection) of nodes that
 * stay, and the node objects themselves when nothing about them changed,
 * so typing in one step's field redraws that step only.
 */
function mergeNodes(prev: FlowNode[], next: FlowNode[], select: Set<string> | null): FlowNode[] {
  const old = new Map(prev.map((n) => [n.id, n]));
  const out = next.map((n) => {
    const p = old.get(n.id);
    const selected = select ? select.has(n.id) : (p?.selected ?? false);
    if (p && !!p.selected === selected && sameNode(p, n)) return p;
    return { ...n, selected, ...(p?.measured ? { measured: p.measured } : {}) } as FlowNode;
  });
  return sameList(prev, out) ? prev : out;
}

/** An edge as it draws, without its selection. */
function edgeKey(e: FlowEdge): string {
  const { selected: _selected, ...rest } = e;
  return JSON.stringify(rest);
}

/**
 * Keeps the selection of edges that stay, and the edge objects themselves
 * when they draw the same; when nothing changed at all the previous list
 * is kept, so React Flow does not rebuild its lookups at every keystroke.
 */
function mergeEdges(prev: FlowEdge[], next: FlowEdge[]): FlowEdge[] {
  const old = new Map(prev.map((e) => [e.id, e]));
  const out = next.map((e) => {
    const p = old.get(e.id);
    if (p && edgeKey(p) === edgeKey(e)) return p;
    return p?.selected ? { ...e, selected: true } : e;
  });
  return sameList(prev, out) ? prev : out;
}

function sameList<T>(a: T[], b: T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function CanvasInner(props: CanvasProps) {
  const { workflow, onChange, selected, onSelect, statuses, problems, readOnly = false, defaultConnection, onUndo, onRedo } = props;
  const catalog = useCatalog();
  const rf = useReactFlow<FlowNode, FlowEdge>();
  const wrapper = useRef<HTMLDivElement>(null);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);

  // Auto-layout positions for the steps without a stored one; recomputed
  // only when the graph's shape changes, so moving a node moves no other.
  const topology = topologyKey(workflow);
  const auto = useMemo(() => autoLayout(workflow, catalog), [topology, catalog]);
  const graph = useMemo(() => toGraph(workflow, catalog, { statuses, problems, positions: auto }), [workflow, catalog, statuses, problems, auto]);

  const [nodes, setNodes] = useState<FlowNode[]>(() => mergeNodes([], graph.nodes, new Set(selected ? [selected] : [])));
  const [edges, setEdges] = useState<FlowEdge[]>(graph.edges);
  /** Nodes to select once they are drawn (after a paste or an add). */
  const pendingSelection = useRef<Set<string> | null>(null);
  /** The last id this canvas reported through onSelect. */
  const reported = useRef<string | null>(selected);

  // Follow the workflow: rebuild the nodes and edges, keeping view state.
  const [drawn, setDrawn] = useState(graph);
  if (drawn !== graph) {
    setDrawn(graph);
    const pending = pendingSelection.current;
    setNodes((prev) => mergeNodes(prev, graph.nodes, pending));
    setEdges((prev) => mergeEdges(prev, graph.edges));
  }
  useEffect(() => {
    pendingSelection.current = null;
  }, [graph]);

  // Follow a selection made outside (the inspector, a run's step list).
  useEffect(() => {
    if (selected === reported.current) return;
    reported.current = selected;
    setNodes((ns) => ns.map((n) => (!!n.selected === (n.id === selected) ? n : ({ ...n, selected: n.id === selected } as FlowNode))));
    setEdges((es) => es.map((e) => (e.selected ? { ...e, selected: false } : e)));
  }, [selected]);

  const select = useCallback(
    (id: string | null) => {
      reported.current = id;
      onSelect(id);
    },
    [onSelect],
  );

  const say = useCallback((text: string, error = false) => setMessage({ text, error }), []);
  useEffect(() => {
    if (!message) return;
    const t = window.setTimeout(() => setMessage(null), MESSAGE_MS);
    return () => window.clearTimeout(t);
  }, [message]);

  // The latest props for the change handlers React Flow keeps.
  const latest = useRef({ workflow, onChange, readOnly });
  latest.current = { workflow, onChange, readOnly };
  /** A mouse drag is in progress: its end is saved by onNodeDragStop. */
  const dragging = useRef(false);

  const onNodesChange = useCallback((changes: NodeChange<FlowNode>[]) => {
    setNodes((ns) => applyNodeChanges(changes, ns));
    // A move with the arrow keys comes as final position changes
    // (dragging false) with no drag around them: save it here.
    const moves = keyboardMoves(changes, dragging);
    const { workflow: wf, onChange: report, readOnly: ro } = latest.current;
    if (ro || !moves) return;
    const next = moveSteps(wf, moves);
    if (next !== wf) report(next, `move:${Object.keys(moves).sort().join(',')}`);
  }, []);
  const onEdgesChange = useCallback((changes: EdgeChange<FlowEdge>[]) => setEdges((es) => applyEdgeChanges(changes, es)), []);

  const onNodeDragStart: OnNodeDrag<FlowNode> = () => {
    dragging.current = true;
  };

  const onNodeDragStop: OnNodeDrag<FlowNode> = (_event, node, dragged) => saveDrag(dragged.length ? dragged : [node]);

  /** Saves the positions at the end of a mouse drag (of nodes or of the selection box). */
  const saveDrag = (list: FlowNode[]) => {
    dragging.current = false;
    if (readOnly) return;
    const moves: Record<string, Position> = {};
    for (const n of list) if (n.id !== TRIGGER_ID) moves[n.id] = n.position;
    const next = moveSteps(workflow, moves);
    if (next !== workflow) {
      const ids = Object.keys(moves).sort();
      onChange(next, `move:${ids.join(',')}`);
    }
  };

  const branchOf = (nodeId: string, handle: string | null | undefined): string | undefined => {
    const n = nodes.find((x) => x.id === nodeId);
    if (!n || n.type === 'trigger' || !handle) return undefined;
    return (n.data as StepNodeData).branches.includes(handle) ? handle : undefined;
  };

  const onConnect = (c: Connection) => {
    if (readOnly) return;
    const r = connect(workflow, c.source, c.target, branchOf(c.source, c.sourceHandle));
    if (r.error) say(r.error, true);
    else if (r.wf !== workflow) onChange(r.wf);
  };

  const isValidConnection: IsValidConnection<FlowEdge> = (c) => c.source !== c.target && c.target !== TRIGGER_ID;

  /** The selected steps (React Flow's selection, else the selected prop). */
  const selectedStepIds = (): string[] => {
    const ids = nodes.filter((n) => n.selected && n.id !== TRIGGER_ID).map((n) => n.id);
    if (!ids.length && selected && selected !== TRIGGER_ID && nodes.some((n) => n.id === selected)) ids.push(selected);
    return ids;
  };

  const deleteSelection = () => {
    const stepIds = selectedStepIds();
    const edgeIds = edges.filter((e) => e.selected && !e.data?.implicit).map((e) => e.id);
    if (!stepIds.length && !edgeIds.length) return;
    const next = disconnect(removeSteps(workflow, stepIds), edgeIds);
    if (next === workflow) return;
    onChange(next);
    if (selected && stepIds.includes(selected)) select(null);
  };

  const copySelection = () => {
    const ids = selectedStepIds();
    if (!ids.length) return;
    const positions = Object.fromEntries(nodes.map((n) => [n.id, n.position]));
    clipboard = copySteps(workflow, ids, positions);
    say(`Copied ${ids.length === 1 ? `"${ids[0]}"` : `${ids.length} steps`}.`);
  };

  /** Pastes into the selected fanout, or the fanout holding the selected step, else the top level. */
  const pasteClipboard = () => {
    if (!clipboard?.steps.length) return;
    const at = selected ? nodes.find((n) => n.id === selected) : undefined;
    const parentId = at?.type === 'group' ? at.id : (at?.parentId ?? null);
    const r = pasteSteps(workflow, clipboard, PASTE_OFFSET, parentId);
    pendingSelection.current = new Set(r.ids);
    onChange(r.wf);
    if (r.ids.length) select(r.ids[0]);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (isEditableTarget(e.target)) return;
    const mod = e.ctrlKey || e.metaKey;
    const key = e.key.toLowerCase();
    if (mod && !e.altKey && ((key === 'z' && e.shiftKey) || (key === 'y' && !e.shiftKey))) {
      e.preventDefault();
      onRedo?.();
      return;
    }
    if (mod && !e.altKey && key === 'z') {
      e.preventDefault();
      onUndo?.();
      return;
    }
    if (e.key === 'Enter' && !mod) {
      const el = e.target instanceof HTMLElement ? e.target.closest<HTMLElement>('.react-flow__node') : null;
      const id = el?.dataset.id;
      if (id) {
        e.preventDefault();
        select(id);
      }
      return;
    }
    if (mod && key === 'c' && !e.shiftKey) {
      e.preventDefault();
      copySelection();
      return;
    }
    if (readOnly) return;
    if ((e.key === 'Delete' || e.key === 'Backspace') && !mod) {
      e.preventDefault();
      deleteSelection();
    } else if (mod && key === 'v' && !e.shiftKey) {
      e.preventDefault();
      pasteClipboard();
    }
  };

  // Clicking the pane or a node focuses the canvas so its shortcuts work.
  const onPointerDownCapture = (e: PointerEvent<HTMLDivElement>) => {
    const el = wrapper.current;
    if (!el || isEditableTarget(e.target)) return;
    if (!el.contains(document.activeElement)) el.focus({ preventScroll: true });
  };

  /** The innermost fanout group under a flow position, with its top-left corner. */
  const groupAt = (p: Position): { id: string; origin: Position } | null => {
    let best: { id: string; origin: Position; depth: number } | null = null;
    for (const n of nodes) {
      if (n.type !== 'group') continue;
      const internal = rf.getInternalNode(n.id);
      if (!internal) continue;
      const o = internal.internals.positionAbsolute;
      const w = internal.measured.width ?? n.width ?? 0;
      const h = internal.measured.height ?? n.height ?? 0;
      if (p.x < o.x || p.y < o.y || p.x > o.x + w || p.y > o.y + h) continue;
      let depth = 0;
      for (let q = n.parentId; q; q = nodes.find((x) => x.id === q)?.parentId) depth++;
      if (!best || depth > best.depth) best = { id: n.id, origin: o, depth };
    }
    return best && { id: best.id, origin: best.origin };
  };

  const onDragOver = (e: DragEvent<HTMLDivElement>) => {
    if (readOnly || !e.dataTransfer.types.includes(STEP_DND_TYPE)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  };

  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    if (readOnly) return;
    const type = e.dataTransfer.getData(STEP_DND_TYPE);
    if (!type) return;
    e.preventDefault();
    const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    const corner = { x: p.x - NODE_WIDTH / 2, y: p.y - NODE_HEIGHT / 2 };
    const group = groupAt(p);
    const position = group
      ? { x: Math.max(GROUP_PADDING, corner.x - group.origin.x), y: Math.max(GROUP_HEADER, corner.y - group.origin.y) }
      : corner;
    const r = addStep(workflow, catalog, type, position, group?.id ?? null, defaultConnection);
    pendingSelection.current = new Set([r.id]);
    onChange(r.wf);
    select(r.id);
    wrapper.current?.focus({ preventScroll: true });
  };

  const runAutoLayout = () => {
    const next = applyAutoLayout(workflow, catalog);
    if (next !== workflow) onChange(next);
    window.requestAnimationFrame(() => rf.fitView({ padding: 0.2, duration: 200 }));
  };

  const minimapColor = (n: FlowNode): string => {
    switch (n.data.status) {
      case 'succeeded':
        return '#1e8e3e';
      case 'failed':
        return '#c5221f';
      case 'running':
        return '#1a73e8';
      case 'waiting':
        return '#b06000';
      case 'skipped':
      case 'cancelled':
        return '#bdc1c6';
      default:
        return n.type === 'group' ? '#e8edfc' : '#c9d1e0';
    }
  };

  return (
    <div
      ref={wrapper}
      className={`lf-canvas${readOnly ? ' is-readonly' : ''}`}
      tabIndex={-1}
      onKeyDown={onKeyDown}
      onPointerDownCapture={onPointerDownCapture}
      onDragOver={onDragOver}
      onDrop={onDrop}
      aria-label="Workflow canvas"
      role="region"
      data-testid="canvas"
    >
      <ReactFlow<FlowNode, FlowEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onNodeDragStart={onNodeDragStart}
        onNodeDragStop={onNodeDragStop}
        onSelectionDragStart={() => void (dragging.current = true)}
        onSelectionDragStop={(_e, dragged) => saveDrag(dragged)}
        onConnect={onConnect}
        isValidConnection={isValidConnection}
        onNodeClick={(_e, n) => select(n.id)}
        onPaneClick={() => select(null)}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        edgesReconnectable={false}
        elementsSelectable
        deleteKeyCode={null}
        fitView
        fitViewOptions={{ padding: 0.2, maxZoom: 1.2 }}
        minZoom={0.2}
        maxZoom={2}
        defaultEdgeOptions={{ markerEnd: { type: 'arrowclosed', width: 16, height: 16 } }}
      >
        <Background gap={16} />
        <Controls showInteractive={false} />
        <MiniMap pannable zoomable nodeColor={minimapColor} nodeStrokeWidth={2} ariaLabel="Workflow overview" />
        <Panel position="top-right" className="lf-canvas__toolbar">
          {!readOnly && (
            <button type="button" onClick={runAutoLayout} title="Arrange the steps top to bottom">
              Auto-layout
            </button>
          )}
          <button type="button" onClick={() => rf.fitView({ padding: 0.2, duration: 200, maxZoom: 1.2 })} title="Show the whole workflow">
            Fit view
          </button>
        </Panel>
        {message && (
          <Panel position="top-center" className="lf-canvas__message">
            <div role={message.error ? 'alert' : 'status'} className={`alert ${message.error ? 'error' : 'info'}`}>
              {message.text}
              <button type="button" className="link" aria-label="Dismiss" onClick={() => setMessage(null)}>
                ×
              </button>
            </div>
          </Panel>
        )}
      </ReactFlow>
    </div>
  );
}
