/**
 * The JupyterLab 4 / Notebook 7 plugins: the `meshprogress-nb` widget module, registered with the widget
 * manager so kernels' `ProgressWidget`/`BatchProgressWidget` find their models and views; and the "Mesh jobs"
 * sidebar panel in the left area.
 */

import { IJupyterWidgetRegistry } from '@jupyter-widgets/base';
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import { JOB_RANK, jobOutputFactory, saveOutputs } from './outputs';

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

/** Opens the "Mesh jobs" sidebar. */
export const OPEN_JOBS = 'meshprogress-nb:open-jobs';

const sidebar: JupyterFrontEndPlugin<void> = {
  id: 'meshprogress-nb:sidebar',
  description:
    "A sidebar panel listing the user's mesh jobs and batches, live, with Cancel and Retry.",
  optional: [ILayoutRestorer],
  autoStart: true,
  activate: (app: JupyterFrontEnd, restorer: ILayoutRestorer | null): void => {
    const panel = new JobsPanel();
    app.shell.add(panel, 'left', { rank: 800 });
    restorer?.add(panel, panel.id);
    // The View menu's entry (schema/sidebar.json); Notebook 7 keeps its left area closed until asked.
    app.commands.addCommand(OPEN_JOBS, {
      label: 'Mesh Jobs',
      caption: "Show the user's mesh jobs and batches",
      execute: () => app.shell.activateById(panel.id)
    });
  }
};

const outputs: JupyterFrontEndPlugin<void> = {
  id: 'meshprogress-nb:outputs',
  description:
    'Job outputs shown live without their kernel; their static rendering saved as last seen.',
  requires: [IRenderMimeRegistry],
  autoStart: true,
  activate: (app: JupyterFrontEnd, rendermime: IRenderMimeRegistry): void => {
    rendermime.addFactory(jobOutputFactory, JOB_RANK);
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (_panel, context) => {
        context.saveState.connect((_context, state) => {
          if (state === 'started') {
            saveOutputs(context.model as unknown as Parameters<typeof saveOutputs>[0]);
          }
        });
      }
    });
  }
};

export default [widgets, sidebar, outputs];
