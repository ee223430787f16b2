/**
 * React's development build (the default when NODE_ENV is unset) doubles the UI's CPU per frame (measured with
 * bench/ui-cpu.ts). The station is never a React development session, so unless the environment says otherwise,
 * select the production build. Must be imported before anything imports 'react' (ESM evaluates in import order).
 */
process.env.NODE_ENV ??= 'production';
