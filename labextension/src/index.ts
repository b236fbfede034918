/**
 * The JupyterLab 4 / Notebook 7 plugins: the `meshprogress-nb` widget module, registered with the widget
 * manager so kernels' `ProgressWidget`/`BatchProgressWidget` find their models and views; and the "Mesh jobs"
 * sidebar panel in the left area.
 */

import { IJupyterWidgetRegistry } from '@jupyter-widgets/base';
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';

import { JobsPanel } from './sidebar';
import { BatchProgressModel, BatchProgressView, ProgressModel, ProgressView } from './widget';
import { MODULE_NAME, MODULE_VERSION } from './version';

const widgets: JupyterFrontEndPlugin<void> = {
  id: 'meshprogress-nb:widgets',
  description: 'Live progress widgets for mesh-generation jobs of the meshprogress hub.',
  requires: [IJupyterWidgetRegistry],
  autoStart: true,
  activate: (_app: JupyterFrontEnd, registry: IJupyterWidgetRegistry): void => {
    registry.registerWidget({
      name: MODULE_NAME,
      version: MODULE_VERSION,
      exports: { ProgressModel, ProgressView, BatchProgressModel, BatchProgressView }
    });
  }
};

const sidebar: JupyterFrontEndPlugin<void> = {
  id: 'meshprogress-nb:sidebar',
  description: "A sidebar panel listing the user's mesh jobs and batches, live, with Cancel and Retry.",
  optional: [ILayoutRestorer],
  autoStart: true,
  activate: (app: JupyterFrontEnd, restorer: ILayoutRestorer | null): void => {
    const panel = new JobsPanel();
    app.shell.add(panel, 'left', { rank: 800 });
    restorer?.add(panel, panel.id);
  }
};

export default [widgets, sidebar];
