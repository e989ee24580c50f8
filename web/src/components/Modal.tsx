// A modal dialog over the native <dialog>: focus moves into it, Tab stays
// inside, Escape closes it (onClose), and focus goes back to where it was.
import { useEffect, useId, useRef, type ReactNode } from 'react';

export interface ModalProps {
  open: boolean;
  title: ReactNode;
  onClose: () => void;
  children: ReactNode;
  /** Buttons for the footer (.modal-actions). */
  actions?: ReactNode;
  testId?: string;
  /** Wider dialog (payloads). */
  wide?: boolean;
}

export function Modal({ open, title, onClose, children, actions, testId, wide }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      const before = document.activeElement as HTMLElement | null;
      d.showModal();
      // The first field (or button) of the body, else the first action.
      const first = d.querySelector<HTMLElement>(
        '[data-autofocus], .modal-body :is(input:not([type=hidden]), select, textarea, button, a[href]):not(:disabled), .modal-actions button:not(:disabled)',
      );
      first?.focus();
      return () => {
        if (d.open) d.close();
        before?.focus?.();
      };
    }
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      className={'modal' + (wide ? ' wide' : '')}
      aria-labelledby={titleId}
      data-testid={testId}
      onCancel={(e) => {
        e.preventDefault(); // Escape: the owner decides (it sets open to false)
        onClose();
      }}
    >
      {open && (
        <>
          <div className="modal-head">
            <h2 id={titleId}>{title}</h2>
          </div>
          <div className="modal-body">{children}</div>
          {actions && <div className="modal-actions">{actions}</div>}
          {/* Last in the tab order: the first field gets the focus on opening. */}
          <button type="button" className="icon modal-close" aria-label="Close" title="Close (Esc)" onClick={onClose}>
            ✕
          </button>
        </>
      )}
    </dialog>
  );
}
