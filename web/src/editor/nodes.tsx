// The canvas's node components: a step, a fanout group and the trigger.
// React Flow's wrapper element carries the test id (node-<id>), the
// aria-label and the focus (see graph/mapping.ts); these draw the inside
// and the handles: one target handle on top ("in") and on the bottom one
// source handle per branch (labelled) or a single "next" one.
import { Handle, Position, type NodeProps, type NodeTypes } from '@xyflow/react';
import type { CSSProperties } from 'react';
import type { StepStatus } from '../api/types';
import { IN_HANDLE, NEXT_HANDLE, type StepNode, type StepNodeData, type TriggerNode } from '../graph/mapping';
import { StatusBadge } from '../components/StatusBadge';
import { StepIcon } from './icons';

function statusClass(status: StepStatus | undefined): string {
  return status ? ` lf-status-${status}` : '';
}

/** The run overlay's status of a node: the app's badge ("Succeeded"), placed in the node's head. */
function NodeStatus({ status }: { status?: StepStatus }) {
  return status ? <StatusBadge status={status} className="lf-node__badge" /> : null;
}

function ProblemMarker({ problems }: { problems: string[] }) {
  if (!problems.length) return null;
  const label = problems.length === 1 ? problems[0] : `${problems[0]} (and ${problems.length - 1} more)`;
  return (
    <span className="lf-node__problem" title={label} role="img" aria-label={`Problem: ${label}`} data-testid="node-problem">
      !
    </span>
  );
}

function TargetHandle({ id, connectable }: { id: string; connectable: boolean }) {
  return <Handle type="target" position={Position.Top} id={IN_HANDLE} isConnectable={connectable} data-testid={`handle-${id}-in`} />;
}

/** The source handles: one per branch, labelled, then "next" when the node has it. */
function SourceHandles({ id, data, connectable }: { id: string; data: Pick<StepNodeData, 'branches' | 'unknownBranches' | 'hasNext'>; connectable: boolean }) {
  const handles = [...data.branches, ...(data.hasNext ? [NEXT_HANDLE] : [])];
  const labelled = data.branches.length > 0;
  return (
    <>
      {labelled && (
        <div className="lf-node__branches" aria-hidden="true">
          {handles.map((h) => (
            <span key={h} className={data.unknownBranches.includes(h) ? 'lf-branch lf-branch--unknown' : 'lf-branch'} title={h}>
              {h}
            </span>
          ))}
        </div>
      )}
      {handles.map((h, i) => {
        const style: CSSProperties = { left: `${((i + 1) / (handles.length + 1)) * 100}%` };
        return (
          <Handle
            key={h}
            type="source"
            position={Position.Bottom}
            id={h}
            style={style}
            isConnectable={connectable}
            className={labelled ? 'lf-handle-branch' : undefined}
            title={labelled ? `Branch "${h}"` : undefined}
            data-testid={`handle-${id}-out-${h}`}
          />
        );
      })}
    </>
  );
}

function StepBody({ id, data }: { id: string; data: StepNodeData }) {
  return (
    <div className="lf-node__head">
      <span className={`lf-node__icon lf-cat-${(data.category || 'other').toLowerCase()}`}>
        <StepIcon type={data.step.type} category={data.category} />
      </span>
      <span className="lf-node__text">
        <span className="lf-node__title" title={data.title}>
          {data.title}
        </span>
        <span className="lf-node__id mono">{id}</span>
      </span>
      <NodeStatus status={data.status} />
      <ProblemMarker problems={data.problems} />
    </div>
  );
}

export function StepNodeView({ id, data, selected, isConnectable }: NodeProps<StepNode>) {
  const cls = `lf-node${statusClass(data.status)}${selected ? ' is-selected' : ''}${data.problems.length ? ' has-problems' : ''}${data.branches.length ? ' has-branches' : ''}`;
  return (
    <div className={cls}>
      <TargetHandle id={id} connectable={isConnectable} />
      <StepBody id={id} data={data} />
      <SourceHandles id={id} data={data} connectable={isConnectable} />
    </div>
  );
}

export function GroupNodeView({ id, data, selected, isConnectable }: NodeProps<StepNode>) {
  const cls = `lf-group${statusClass(data.status)}${selected ? ' is-selected' : ''}${data.problems.length ? ' has-problems' : ''}`;
  return (
    <div className={cls}>
      <TargetHandle id={id} connectable={isConnectable} />
      <StepBody id={id} data={data} />
      <div className="lf-group__hint">Runs once per item</div>
      <SourceHandles id={id} data={data} connectable={isConnectable} />
    </div>
  );
}

export function TriggerNodeView({ id, data, selected, isConnectable }: NodeProps<TriggerNode>) {
  const cls = `lf-node lf-trigger${statusClass(data.status)}${selected ? ' is-selected' : ''}${data.problems.length ? ' has-problems' : ''}`;
  return (
    <div className={cls}>
      <div className="lf-node__head">
        <span className="lf-node__icon lf-cat-trigger">
          <StepIcon type="trigger" category="trigger" />
        </span>
        <span className="lf-node__text">
          <span className="lf-node__title" title={data.title}>
            {data.title}
          </span>
          <span className="lf-node__id">Trigger · {data.trigger?.type}</span>
        </span>
        <NodeStatus status={data.status} />
        <ProblemMarker problems={data.problems} />
      </div>
      <Handle type="source" position={Position.Bottom} id={NEXT_HANDLE} isConnectable={isConnectable} data-testid={`handle-${id}-out-${NEXT_HANDLE}`} />
    </div>
  );
}

export const nodeTypes: NodeTypes = {
  step: StepNodeView,
  group: GroupNodeView,
  trigger: TriggerNodeView,
} as NodeTypes;
