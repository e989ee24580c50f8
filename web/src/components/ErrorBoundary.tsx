// Keeps a page's crash from blanking the whole app: the error is shown with
// a way back, and the navigation stays usable.
import { Component, type ReactNode } from 'react';

interface State {
  error: Error | null;
}

export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="page">
        <div className="alert error" role="alert">
          <strong>This page stopped working:</strong> {this.state.error.message}
        </div>
        <p>
          Your saved work is safe on the server. <button onClick={() => window.location.reload()}>Reload the page</button>
        </p>
      </div>
    );
  }
}
