// SPDX-License-Identifier: GPL-3.0-or-later
// The line under a form field: its error once there is one (id `<field>-error`), else its help text.
import { FormHelperText } from "@patternfly/react-core/dist/esm/components/Form/index.js";
import { HelperText, HelperTextItem } from "@patternfly/react-core/dist/esm/components/HelperText/index.js";

export function FieldNote({ field, error, help }: { field: string; error?: string; help?: string }) {
    if (!error && !help)
        return null;
    return (
        <FormHelperText>
            <HelperText>
                {error
                    ? <HelperTextItem id={`${field}-error`} variant="error">{error}</HelperTextItem>
                    : <HelperTextItem id={`${field}-help`}>{help}</HelperTextItem>}
            </HelperText>
        </FormHelperText>
    );
}
